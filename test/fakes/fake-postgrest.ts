import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openPgliteDatabase } from '../../src/store/pglite-store.js';
import type { SqlDatabase, SqlSession } from '../../src/store/sql-database.js';

/**
 * A loopback stand-in for Supabase's `/rest/v1` (PostgREST), for exactly the calls the supabase-js
 * store makes, backed by a real in-memory PGlite migrated with the project's migrations: the rows
 * and the vector search are real, only the HTTP layer is a stand-in. Each request runs in one
 * transaction, as PostgREST does, with the SQL PostgREST would generate:
 *
 * - `POST /rest/v1/<table>?columns=…&on_conflict=…` with `Prefer: resolution=ignore-duplicates`
 *   → `insert … select … from json_populate_recordset(…) on conflict (…) do nothing`;
 *   `Prefer: return=representation` + `select=a,b` returns those columns, else 201 with no body.
 * - `POST /rest/v1/rpc/<function>` with named arguments as a JSON object → `select * from fn(name => …)`.
 *
 * `apikey` and `Authorization: Bearer` must both carry the key, else 401 PGRST301. Errors are
 * PostgREST bodies `{ code, message, details, hint }`: SQLSTATE 23505 → 409, class 22 / 23502 → 400,
 * unknown table → 404 PGRST205, unknown function → 404 PGRST202.
 */
export interface FakePostgrest {
  url: string; // what createClient takes: http://127.0.0.1:<port>
  key: string;
  database: SqlDatabase; // the real rows, for assertions
  /** Every request as received, for wire assertions. */
  requests: RecordedRequest[];
  /** Until called with false, every request is answered 503 (PGRST001) without touching the database. */
  setUnavailable(isUnavailable: boolean): void;
  /** The next write commits, then is answered 503: the client cannot tell it landed. */
  loseNextAcknowledgement(): void;
  close(): Promise<void>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  prefer: string[];
  status: number;
}

interface PostgrestErrorBody {
  code: string;
  message: string;
  details: string | null;
  hint: string | null;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: PostgrestErrorBody,
  ) {
    super(body.message);
  }
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

export async function startFakePostgrest(options: { key?: string } = {}): Promise<FakePostgrest> {
  const key = options.key ?? 'service-role-test-key';
  const database = await openPgliteDatabase({ inMemory: true });
  const requests: RecordedRequest[] = [];
  let isUnavailable = false;
  let shouldLoseAcknowledgement = false;

  const server: Server = createServer((request, response) => {
    void handle(request, response);
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const prefer = [request.headers.prefer ?? []]
      .flat()
      .join(',')
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part.length > 0);
    const record: RecordedRequest = {
      method: request.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      prefer,
      status: 0,
    };
    requests.push(record);
    const reply = (status: number, body?: unknown) => {
      record.status = status;
      if (body === undefined) {
        response.writeHead(status).end();
        return;
      }
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body, asJsonNumber));
    };
    try {
      const text = await readBody(request);
      checkKey(request, key);
      if (isUnavailable) throw unavailable();
      const body: unknown = text === '' ? undefined : parseJson(text);
      const result = await database.transaction((session) => route(session, request.method ?? '', url, prefer, body));
      if (shouldLoseAcknowledgement && request.method === 'POST') {
        shouldLoseAcknowledgement = false;
        throw unavailable();
      }
      reply(result.status, result.body);
    } catch (error) {
      if (error instanceof HttpError) reply(error.status, error.body);
      else reply(500, { code: 'XX000', message: String(error), details: null, hint: null });
    }
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    key,
    database,
    requests,
    setUnavailable(value) {
      isUnavailable = value;
    },
    loseNextAcknowledgement() {
      shouldLoseAcknowledgement = true;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
      await database.close();
    },
  };
}

// PostgREST renders bigint and numeric as JSON numbers; PGlite hands int8 back as a BigInt.
function asJsonNumber(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value;
}

function checkKey(request: IncomingMessage, key: string): void {
  if (request.headers.apikey !== key || request.headers.authorization !== `Bearer ${key}`) {
    throw new HttpError(401, { code: 'PGRST301', message: 'Invalid API key', details: 'JWSError JWSInvalidSignature', hint: null });
  }
}

function unavailable(): HttpError {
  return new HttpError(503, {
    code: 'PGRST001',
    message: 'Database client error. Retrying the connection.',
    details: 'connection refused',
    hint: null,
  });
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, { code: 'PGRST102', message: 'Empty or invalid json', details: String(error), hint: null });
  }
}

async function route(
  session: SqlSession,
  method: string,
  url: URL,
  prefer: string[],
  body: unknown,
): Promise<{ status: number; body?: unknown }> {
  const match = /^\/rest\/v1\/(rpc\/)?([^/]+)$/.exec(url.pathname);
  if (method !== 'POST' || match === null) {
    throw new HttpError(405, { code: 'PGRST117', message: `Unsupported HTTP method: ${method}`, details: null, hint: null });
  }
  const [, rpc, name] = match;
  return rpc === undefined ? insert(session, name, url, prefer, body) : callFunction(session, name, body);
}

async function insert(
  session: SqlSession,
  table: string,
  url: URL,
  prefer: string[],
  body: unknown,
): Promise<{ status: number; body?: unknown }> {
  await requireRelation(session, table);
  const rows = (Array.isArray(body) ? body : [body]) as Record<string, unknown>[];
  const columns = (url.searchParams.get('columns')?.split(',') ?? Object.keys(rows[0] ?? {})).map((column) =>
    identifier(column.replaceAll('"', '')),
  );
  const onConflict = url.searchParams.get('on_conflict')?.split(',').map(identifier);
  const returned = url.searchParams.get('select')?.split(',').map(identifier);
  let conflictClause = '';
  if (prefer.includes('resolution=ignore-duplicates')) {
    conflictClause = ` on conflict${onConflict ? ` (${onConflict.join(', ')})` : ''} do nothing`;
  } else if (prefer.includes('resolution=merge-duplicates')) {
    throw new HttpError(501, { code: 'FAKE', message: 'merge-duplicates is not faked', details: null, hint: null });
  }
  const isRepresentation = prefer.includes('return=representation');
  const list = columns.join(', ');
  const result = await runSql(
    session,
    `insert into ${table} (${list}) select ${list} from json_populate_recordset(null::${table}, $1::json)` +
      conflictClause +
      (isRepresentation ? ` returning ${(returned ?? ['*']).join(', ')}` : ''),
    [JSON.stringify(rows)],
  );
  return isRepresentation ? { status: 201, body: result.rows } : { status: 201 };
}

async function callFunction(session: SqlSession, name: string, body: unknown): Promise<{ status: number; body: unknown }> {
  identifier(name);
  const found = await session.query('select 1 from pg_proc where proname = $1', [name]);
  if (found.rows.length === 0) {
    throw new HttpError(404, {
      code: 'PGRST202',
      message: `Could not find the function public.${name} in the schema cache`,
      details: null,
      hint: null,
    });
  }
  const args = Object.entries((body ?? {}) as Record<string, unknown>);
  const params = args.map(([, value]) => (typeof value === 'object' && value !== null ? JSON.stringify(value) : value));
  const named = args.map(([argument], index) => `${identifier(argument)} => $${index + 1}`);
  const result = await runSql(session, `select * from ${name}(${named.join(', ')})`, params);
  return { status: 200, body: result.rows };
}

async function requireRelation(session: SqlSession, table: string): Promise<void> {
  const found = await session.query(`select 1 from pg_class where relname = $1 and relkind = 'r'`, [identifier(table)]);
  if (found.rows.length === 0) {
    throw new HttpError(404, {
      code: 'PGRST205',
      message: `Could not find the table 'public.${table}' in the schema cache`,
      details: null,
      hint: null,
    });
  }
}

function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new HttpError(400, { code: 'PGRST100', message: `"${name}" is not an identifier this fake accepts`, details: null, hint: null });
  }
  return name;
}

/** Runs the statement, turning a Postgres error into PostgREST's status and body. */
async function runSql(session: SqlSession, sql: string, params: unknown[]) {
  try {
    return await session.query<Record<string, unknown>>(sql, params);
  } catch (error) {
    const pgError = error as { code?: string; message?: string; detail?: string; hint?: string };
    const code = pgError.code ?? 'XX000';
    throw new HttpError(statusForSqlState(code), {
      code,
      message: pgError.message ?? String(error),
      details: pgError.detail ?? null,
      hint: pgError.hint ?? null,
    });
  }
}

// https://docs.postgrest.org/en/stable/references/errors.html#http-status-codes
function statusForSqlState(code: string): number {
  if (code === '23505' || code === '23503') return 409;
  if (code === '23502' || code.startsWith('22') || code === '42703') return 400;
  if (code === '42883' || code === '42P01') return 404;
  if (code === '42501') return 403;
  if (code.startsWith('08') || code === '53300') return 503;
  return 500;
}
