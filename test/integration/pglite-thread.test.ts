import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchedInferenceLog } from '../../src/store/batched-inference-log.js';
import { SqlEmbeddingStore } from '../../src/store/embedding-store.js';
import { openPgliteDatabase } from '../../src/store/pglite-store.js';
import { DatabaseThreadStoppedError, openPgliteThreadDatabase, type PgliteThreadDatabase } from '../../src/store/pglite-thread.js';
import type { SqlDatabase } from '../../src/store/sql-database.js';
import { SqlRowSink } from '../../src/store/sql-row-sink.js';

// Each open starts a WASM Postgres and migrates it: seconds on these shared cores.
const OPEN_TIMEOUT_MS = 120_000;

/** A promise and the function that settles it, to hold a transaction open on cue. */
function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

async function caught(work: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await work;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail');
}

const POSTGRES_ERROR_FIELDS = ['name', 'message', 'code', 'severity', 'detail', 'schema', 'table', 'constraint', 'routine'];
const pick = (error: Record<string, unknown>) => Object.fromEntries(POSTGRES_ERROR_FIELDS.map((key) => [key, error[key]]));

const vector = (seed: number) => Array.from({ length: 384 }, (_, index) => Math.sin(seed + index) / 7);

describe('PGlite on a worker thread, against PGlite on this thread', () => {
  let thread: PgliteThreadDatabase;
  let same: SqlDatabase;

  beforeAll(async () => {
    [thread, same] = await Promise.all([openPgliteThreadDatabase({ inMemory: true }), openPgliteDatabase({ inMemory: true })]);
  }, OPEN_TIMEOUT_MS);
  afterAll(async () => {
    await Promise.all([thread?.close(), same?.close()]);
  });

  it('is migrated at open like the same-thread database', async () => {
    const versions = 'select version from sluice_migrations order by version';
    expect((await thread.query(versions)).rows).toStrictEqual((await same.query(versions)).rows);
    expect(thread.backend).toBe('pglite');
  });

  it('rethrows Postgres errors here with their message, SQLSTATE code and fields', async () => {
    for (const database of [thread, same]) {
      await database.exec('create table if not exists unique_things (name text constraint unique_things_name unique)');
      await database.query('insert into unique_things (name) values ($1)', ['one']);
    }
    const duplicate = (database: SqlDatabase) => caught(database.query('insert into unique_things (name) values ($1)', ['one']));
    const [fromThread, fromSame] = [await duplicate(thread), await duplicate(same)];
    expect(fromThread).toBeInstanceOf(Error);
    expect(fromThread.code).toBe('23505');
    expect(fromThread.constraint).toBe('unique_things_name');
    expect(pick(fromThread)).toStrictEqual(pick(fromSame));

    const missing = await caught(thread.exec('select * from no_such_table'));
    expect(missing.code).toBe('42P01');
    expect(missing.message).toBe('relation "no_such_table" does not exist');
    // The caller's own frames are in the stack, not only the worker's.
    expect(missing.stack).toContain('pglite-thread.test.ts');

    const badType = await caught(thread.query('select $1::int as n', ['not a number']));
    expect(badType.code).toBe('22P02');
  });

  it('rolls a transaction back when its work throws, and rethrows that very error', async () => {
    await thread.exec('create table rollback_things (name text)');
    const refusal = new Error('changed my mind');
    const failed = await caught(
      thread.transaction(async (session) => {
        await session.query('insert into rollback_things (name) values ($1)', ['kept?']);
        expect((await session.query('select count(*)::int as n from rollback_things')).rows).toStrictEqual([{ n: 1 }]);
        throw refusal;
      }),
    );
    expect(failed).toBe(refusal);
    expect((await thread.query('select count(*)::int as n from rollback_things')).rows).toStrictEqual([{ n: 0 }]);

    // A statement that fails inside rolls back what came before it, with the Postgres error.
    const violation = await caught(
      thread.transaction(async (session) => {
        await session.query('insert into rollback_things (name) values ($1)', ['first']);
        await session.query('insert into rollback_things (name) values ($1::int::text)', ['x']);
      }),
    );
    expect(violation.code).toBe('22P02');
    expect((await thread.query('select count(*)::int as n from rollback_things')).rows).toStrictEqual([{ n: 0 }]);

    // A committed one stays, and answers with what its work returned.
    const answer = await thread.transaction(async (session) => {
      await session.query('insert into rollback_things (name) values ($1)', ['committed']);
      return 'done';
    });
    expect(answer).toBe('done');
    expect((await thread.query('select name from rollback_things')).rows).toStrictEqual([{ name: 'committed' }]);
  });

  it('makes queries from outside an open transaction wait until it commits', async () => {
    await thread.exec('create table waiting_things (name text)');
    const events: string[] = [];
    const hold = gate();
    const inside = gate();
    const transaction = thread.transaction(async (session) => {
      await session.query('insert into waiting_things (name) values ($1)', ['from the transaction']);
      inside.open();
      await hold.opened;
      events.push('commit');
    });
    await inside.opened;
    const outside = thread.query<{ name: string }>('select name from waiting_things').then((result) => {
      events.push('outside answered');
      return result.rows;
    });
    const secondTransaction = thread.transaction(async (session) => {
      events.push('second transaction began');
      await session.query('insert into waiting_things (name) values ($1)', ['second']);
    });
    // Long enough for the worker to have answered, had it not waited.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(events).toStrictEqual([]);
    hold.open();
    await transaction;
    const seen = await outside;
    await secondTransaction;
    expect(events[0]).toBe('commit');
    expect(events.slice(1).sort()).toStrictEqual(['outside answered', 'second transaction began']);
    // The outside query ran after the commit: it sees the committed row.
    expect(seen.map((row) => row.name)).toContain('from the transaction');
  });

  it('returns rows as the same-thread database does: dates, numerics, jsonb, arrays, vectors, bytes', async () => {
    const createdAt = new Date('2026-01-02T03:04:05.678Z');
    const rows = [
      {
        requestId: 'round-trip-1', attempt: 1, modelId: 'local-qwen', inputText: 'é 中文 \u{1F600}', output: 'answer',
        qualityScore: 0.8125, costUsd: 0.000123456789, latencyMs: 42, routingReason: 'simple', createdAt: createdAt.toISOString(),
        tenant: 'acme', tier: 'simple', route: 'local', cacheStatus: 'miss', promptTokens: 30, completionTokens: 64,
        isEstimated: true, outcome: 'answered', ttftMs: 7, qualityReasons: 'refusal,length',
      },
      { requestId: 'round-trip-2', attempt: 2, createdAt: createdAt.toISOString(), error: 'upstream-timeout' },
    ];
    // Everything but the random uuid.
    const select = 'select * from model_inferences order by request_id';
    const withoutId = ({ id: _id, ...row }: Record<string, unknown>) => row;
    const withParameters = `select $1::timestamptz as at, $2::numeric as amount, $3::jsonb as document, $4::text[] as tags,
      $5::int8 as big, $6::bytea as bytes, $7::boolean as flag, $8::float8 as ratio, $9::text as nothing,
      '[1,2.5,-3]'::vector as literal_vector, interval '1 day 2 hours' as span, '2026-05-06'::date as day`;
    const parameters = [createdAt, '12345678901234567890.123456789', { nested: { list: [1, 'two', null] } }, ['a', 'b'], 9007199254740993n, new Uint8Array([0, 1, 255]), false, 0.1, null];
    const results: unknown[] = [];
    for (const database of [thread, same]) {
      await new SqlRowSink(database).insert(rows);
      const embeddings = new SqlEmbeddingStore(database);
      const ids = [await embeddings.insert('first', vector(1), 'minilm', { lang: 'en', tags: ['x'] }), await embeddings.insert('second', vector(2), 'minilm')];
      const stored = await database.query('select content, embedding, model_id, metadata from embeddings order by content');
      const matches = (await embeddings.search(vector(1), 2)).map(({ id, ...match }) => ({ ...match, isInserted: ids.includes(id) }));
      results.push({ logged: (await database.query(select)).rows.map(withoutId), stored: stored.rows, matches, values: (await database.query(withParameters, parameters)).rows });
    }
    const [fromThread, fromSame] = results as Array<{ logged: Array<Record<string, unknown>> }>;
    expect(fromThread).toStrictEqual(fromSame);
    // And they are the types callers read, not strings where a Date was.
    expect(fromThread.logged[0].created_at).toBeInstanceOf(Date);
    expect((fromThread.logged[0].created_at as Date).toISOString()).toBe(createdAt.toISOString());
  });

  it('refuses a parameter that cannot cross to the worker, and carries on', async () => {
    const refused = await caught(thread.query('select $1 as f', [() => 1]));
    expect(refused.name).toBe('DataCloneError');
    expect((await thread.query('select 1::int as one')).rows).toStrictEqual([{ one: 1 }]);
  });
});

describe('a PGlite worker that dies', () => {
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'sluice-pglite-thread-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('rejects what was pending and what comes next; the log spills, and replays once a fresh worker is up', async () => {
    const spillPath = join(directory, 'inference-log.spill.jsonl');
    const restartAfterMs = 1_500;
    const database = await openPgliteThreadDatabase({ dataDir: join(directory, 'data') }, { restartAfterMs });
    const sinkErrors: unknown[] = [];
    const options = { spillPath, batchMaxRows: 20, flushIntervalMs: 20, retry: { attempts: 2, initialDelayMs: 5, maxDelayMs: 20 } };
    const log = await BatchedInferenceLog.open({ ...options, sink: new SqlRowSink(database) });
    log.on('sinkError', ({ error }) => sinkErrors.push(error));
    const row = (index: number) => ({ requestId: `crash-${index}`, modelId: 'local-qwen', output: `answer ${index}`, costUsd: 0.0001 });
    try {
      for (let index = 0; index < 50; index += 1) log.append(row(index));
      await log.flush();
      expect(log.pending).toStrictEqual({ queued: 0, spilled: 0, written: 50 });

      // A transaction holds the connection, so the next query waits in the worker: both are pending.
      const hold = gate();
      const inside = gate();
      const transaction = caught(
        database.transaction(async (session) => {
          await session.query("insert into model_inferences (request_id, model_id) values ('never-committed', 'x')");
          inside.open();
          await hold.opened;
          await session.query('select 1');
        }),
      );
      await inside.opened;
      const waiting = caught(database.query('select count(*) from model_inferences'));
      const killedAt = Date.now();
      await database.kill();
      const waitingError = await waiting;
      expect(waitingError).toBeInstanceOf(DatabaseThreadStoppedError);
      expect(waitingError.message).toMatch(/PGlite worker thread stopped/);
      expect(Date.now() - killedAt).toBeLessThan(5_000);
      hold.open();
      expect(await transaction).toBeInstanceOf(DatabaseThreadStoppedError);
      expect(await caught(database.query('select 1'))).toBeInstanceOf(DatabaseThreadStoppedError);

      for (let index = 50; index < 80; index += 1) log.append(row(index));
      await log.flush();
      expect(Date.now() - killedAt).toBeLessThan(restartAfterMs); // all of that while the worker was down
      expect(log.pending).toStrictEqual({ queued: 0, spilled: 30, written: 50 });
      expect(sinkErrors.length).toBeGreaterThan(0);
      expect(sinkErrors.every((error) => error instanceof DatabaseThreadStoppedError)).toBe(true);
      const spilled = (await readFile(spillPath, 'utf8')).trim().split('\n').map((line) => JSON.parse(line).requestId);
      expect(spilled).toStrictEqual(Array.from({ length: 30 }, (_, index) => `crash-${index + 50}`));

      // Past restartAfterMs the log's probe starts a fresh worker on the same files: Postgres
      // recovers, the spill file replays, nothing twice, and the uncommitted row is not there.
      await new Promise((resolve) => setTimeout(resolve, restartAfterMs - (Date.now() - killedAt) + 50));
      // The fresh worker takes its time to open on a busy machine: the log keeps probing until it is up.
      for (const deadline = Date.now() + 20_000; log.pending.spilled > 0 && Date.now() < deadline; ) {
        await log.flush();
        if (log.pending.spilled > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(log.pending).toStrictEqual({ queued: 0, spilled: 0, written: 80 });
      const { rows } = await database.query<{ total: number; distinct_ids: number; uncommitted: number }>(
        `select count(*)::int as total, count(distinct request_id)::int as distinct_ids,
                count(*) filter (where request_id = 'never-committed')::int as uncommitted from model_inferences`,
      );
      expect(rows).toStrictEqual([{ total: 80, distinct_ids: 80, uncommitted: 0 }]);
    } finally {
      await log.close();
      await database.close();
    }
    expect(await caught(database.query('select 1'))).toMatchObject({ message: 'the PGlite database is closed' });
  }, 2 * OPEN_TIMEOUT_MS);

  it('fails the open with the reason when PGlite cannot start', async () => {
    const notADirectory = join(directory, 'a-file');
    await writeFile(notADirectory, 'x');
    const refused = await caught(openPgliteThreadDatabase({ dataDir: notADirectory }));
    expect(refused.message).toMatch(/EEXIST|ENOTDIR|not a directory/i);
  }, OPEN_TIMEOUT_MS);
});
