import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchedInferenceLog } from '../../src/store/batched-inference-log.js';
import { buildSearchQuery, SqlEmbeddingStore, toVectorLiteral } from '../../src/store/embedding-store.js';
import type { LoggedInference, RowSink } from '../../src/store/inference-log.js';
import { runMigrations } from '../../src/store/migrate.js';
import { openPgliteDatabase } from '../../src/store/pglite-store.js';
import { openPostgresDatabase } from '../../src/store/postgres-store.js';
import type { SqlDatabase } from '../../src/store/sql-database.js';
import { SqlRowSink } from '../../src/store/sql-row-sink.js';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server.js';

interface Backend {
  /** The database as the log sees it now; replaced when PGlite is reopened. */
  current(): SqlDatabase;
  makeUnavailable(): Promise<void>;
  bringBack(): Promise<void>;
}

async function countRows(database: SqlDatabase) {
  const result = await database.query<{ total: string | number; distinct_requests: string | number }>(
    'select count(*) as total, count(distinct request_id) as distinct_requests from model_inferences',
  );
  return { total: Number(result.rows[0].total), distinct: Number(result.rows[0].distinct_requests) };
}

/**
 * 1,000 rows: 250 while the database is up, 350 while it is down, a restart of the log (close,
 * build a new one on the same spill file) while it is still down, 400 more, then the database comes
 * back — and the first insert after it does reach the database but "loses" its acknowledgement,
 * so its rows are written twice.
 */
async function outageScenario(backend: Backend, spillPath: string) {
  let loseNextAck = false;
  const sink: RowSink = {
    async insert(rows: readonly LoggedInference[]) {
      await new SqlRowSink(backend.current()).insert(rows);
      if (loseNextAck) {
        loseNextAck = false;
        throw new Error('acknowledgement lost');
      }
    },
  };
  const options = { sink, spillPath, batchMaxRows: 50, flushIntervalMs: 20, retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 40 } };
  const row = (index: number) => ({
    requestId: `req-${index}`,
    modelId: 'local-qwen',
    inputText: `question ${index}`,
    output: `answer ${index}`,
    costUsd: 0.00012345,
    latencyMs: index,
    tier: 'simple',
  });

  const first = await BatchedInferenceLog.open(options);
  for (let index = 0; index < 250; index += 1) first.append(row(index));
  await backend.makeUnavailable(); // batches may be in flight right now
  for (let index = 250; index < 600; index += 1) first.append(row(index));
  await first.close();
  expect(first.pending.queued).toBe(0);

  const second = await BatchedInferenceLog.open(options); // the restart; its start-up replay fails
  for (let index = 600; index < 1000; index += 1) second.append(row(index));
  await second.flush();
  expect(second.pending.spilled).toBeGreaterThan(0);
  expect(second.pending.queued).toBe(0);

  await backend.bringBack();
  loseNextAck = true;
  await second.flush();
  await second.flush(); // the lost acknowledgement left the head in the file: replayed again
  await second.close();

  expect(await countRows(backend.current())).toEqual({ total: 1000, distinct: 1000 });
  expect(await readFile(spillPath, 'utf8')).toBe('');
  const sample = await backend.current().query<{ cost: string; created_at: Date; input_text: string }>(
    `select cost::text as cost, created_at, input_text from model_inferences where request_id = 'req-300'`,
  );
  expect(sample.rows[0]).toMatchObject({ cost: '0.00012345', input_text: 'question 300' });
}

/** Deterministic unit vectors, so a failure reproduces. */
function randomVectors(count: number, seed = 7): number[][] {
  let state = seed;
  const next = () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return Array.from({ length: count }, () => {
    const vector = Array.from({ length: 384 }, next);
    const norm = Math.hypot(...vector);
    return vector.map((value) => value / norm);
  });
}
const dot = (a: number[], b: number[]) => a.reduce((sum, value, index) => sum + value * b[index], 0);
const cosineDistance = (a: number[], b: number[]) => 1 - dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));

async function embeddingsScenario(database: SqlDatabase) {
  const vectors = randomVectors(300);
  const exact = new SqlEmbeddingStore(database, { probes: 100 }); // every list: exact answers
  const ids: string[] = [];
  for (const [index, vector] of vectors.entries()) {
    ids.push(await exact.insert(`doc ${index}`, vector, 'minilm', { group: index % 3 }));
  }
  const query = vectors[42].map((value, index) => value + (index % 2 === 0 ? 0.01 : -0.01));

  const bruteForce = vectors
    .map((vector, index) => ({ index, distance: cosineDistance(query, vector) }))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, 5);
  const found = await exact.search(query, 5);
  expect(found.map((match) => match.content)).toEqual(bruteForce.map(({ index }) => `doc ${index}`));
  expect(found[0]).toMatchObject({ id: ids[42], modelId: 'minilm', metadata: { group: 0 } });
  found.forEach((match, rank) => expect(match.distance).toBeCloseTo(bruteForce[rank].distance, 4));

  const byDefault = await new SqlEmbeddingStore(database).search(query, 1);
  expect(byDefault[0].content).toBe('doc 42');

  const filtered = await exact.search(query, 5, { group: 1 });
  expect(filtered).toHaveLength(5);
  expect(filtered.every((match) => match.metadata.group === 1)).toBe(true);

  const plan = await database.transaction(async (session) => {
    await session.exec('set local enable_seqscan = off');
    const result = await session.query<{ 'QUERY PLAN': string }>(`explain ${buildSearchQuery(false)}`, [toVectorLiteral(query), 5]);
    return result.rows.map((line) => line['QUERY PLAN']).join('\n');
  });
  expect(plan).toContain('Index Scan using embeddings_embedding_idx');

  await expect(exact.insert('short', [1, 2, 3], 'minilm')).rejects.toThrow(/384/);
}

async function migrationsAreIdempotent(database: SqlDatabase) {
  expect(await runMigrations(database)).toEqual([]);
  expect(await runMigrations(database)).toEqual([]);
  const versions = await database.query<{ version: string }>('select version from sluice_migrations');
  expect(versions.rows.map((row) => row.version)).toEqual(['001_init', '002_match_embeddings', '003_attempt_outcome', '004_cache_entry', '005_feedback', '006_dashboard_rollup', '007_report_rollup', '008_report_rollup_lookups']);
  const index = await database.query<{ indexdef: string }>(
    `select indexdef from pg_indexes where indexname = 'embeddings_embedding_idx'`,
  );
  expect(index.rows[0].indexdef).toMatch(/USING ivfflat \(embedding vector_cosine_ops\) WITH \(lists='?100'?\)/);
}

/**
 * The rollup triggers (migrations 006-008) run on every batch the log inserts: each of their
 * statements must reach report_requests and model_inferences through their keys, or a batch costs
 * more the longer the log grows (PGlite never analyzes, so the planner guesses from table sizes).
 */
async function rollupStatementsProbeByKey(database: SqlDatabase) {
  await database.exec(`
    insert into report_requests (request_id, first_at, started_at, ended_at, has_latency, cost_usd, last_attempt)
    select 'old-' || i, now(), now(), now(), false, 0, 1 from generate_series(1, 20000) as i;
    insert into model_inferences (request_id, attempt, model_id, route, outcome, cost, created_at)
    select 'old-' || i, 1, 'local-qwen', 'local', 'answered', 0, now() from generate_series(1, 20000) as i;
    create table batch (like model_inferences including defaults);
    insert into batch (request_id, attempt, model_id, route, outcome, cost, created_at)
    select 'new-' || i, 1 + (i % 3 = 0)::int, 'deepseek-chat', 'deepseek', 'answered', 0.001, now() from generate_series(1, 50) as i;`);
  const statements = await database.query<{ sql: string }>(
    `select unnest(array[report_totals_insert_sql('batch', -1), report_requests_insert_sql('batch'),
                         report_attempts_insert_sql('batch'), dashboard_rollup_insert_sql('batch')]) as sql`,
  );
  expect(statements.rows).toHaveLength(4);
  for (const { sql } of statements.rows) {
    const plan = await database.query<{ 'QUERY PLAN': string }>(`explain ${sql}`);
    const lines = plan.rows.map((row) => row['QUERY PLAN']).join('\n');
    expect(lines).not.toMatch(/Seq Scan on (report_requests|model_inferences)/);
  }
}

describe('inference log on PGlite', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'sluice-pglite-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('runs the migrations once: a second open and a second run are no-ops', async () => {
    const dataDir = join(directory, 'migrations');
    const first = await openPgliteDatabase({ dataDir });
    await first.close();
    const second = await openPgliteDatabase({ dataDir }); // migrates again at open
    try {
      await migrationsAreIdempotent(second);
    } finally {
      await second.close();
    }
  });

  it('loses and duplicates nothing across an outage and a restart', async () => {
    const dataDir = join(directory, 'outage');
    let database = await openPgliteDatabase({ dataDir });
    try {
      await outageScenario(
        {
          current: () => database,
          makeUnavailable: () => database.close(),
          bringBack: async () => {
            database = await openPgliteDatabase({ dataDir });
          },
        },
        join(dataDir, 'inference-log.spill.jsonl'),
      );
    } finally {
      await database.close();
    }
  });

  it('keeps the rollup work of a batch independent of the length of the log', async () => {
    const database = await openPgliteDatabase({ inMemory: true });
    try {
      await rollupStatementsProbeByKey(database);
    } finally {
      await database.close();
    }
  });

  it('finds nearest neighbours through the ivfflat index', async () => {
    const database = await openPgliteDatabase({ inMemory: true });
    try {
      await embeddingsScenario(database);
    } finally {
      await database.close();
    }
  });
});

describe('inference log on PostgreSQL (pgserver binaries)', () => {
  let server: PostgresServer;
  let database: SqlDatabase;
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'sluice-pg-log-'));
    server = await startPostgresServer();
    database = await openPostgresDatabase({ connectionString: server.url });
  });
  afterAll(async () => {
    await database?.close();
    await server?.destroy();
    await rm(directory, { recursive: true, force: true });
  });

  it('runs the migrations once', async () => {
    await migrationsAreIdempotent(database);
  });

  it('loses and duplicates nothing across a server stop and a restart of the log', async () => {
    await outageScenario(
      { current: () => database, makeUnavailable: () => server.stop(), bringBack: () => server.start() },
      join(directory, 'inference-log.spill.jsonl'),
    );
  });

  it('finds nearest neighbours through the ivfflat index', async () => {
    await embeddingsScenario(database);
  });
});
