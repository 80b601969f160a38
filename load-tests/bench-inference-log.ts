// Rows per second the inference log gets into the database, one row per INSERT vs 100 per INSERT.
// Run: node --import tsx load-tests/bench-inference-log.ts   (Postgres too when pgserver's binaries are found)
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BatchedInferenceLog } from '../src/store/batched-inference-log.js';
import { openPgliteDatabase } from '../src/store/pglite-store.js';
import { openPostgresDatabase } from '../src/store/postgres-store.js';
import type { SqlDatabase } from '../src/store/sql-database.js';
import { SqlRowSink } from '../src/store/sql-row-sink.js';
import { findPostgresBin, startPostgresServer } from '../test/support/postgres-server.js';
import { benchRow } from './bench-rows.js';

const ROWS = { 1: 2_000, 100: 20_000 } as const;

async function measure(database: SqlDatabase, batchMaxRows: 1 | 100, directory: string): Promise<number> {
  await database.exec('truncate model_inferences');
  const log = await BatchedInferenceLog.open({
    sink: new SqlRowSink(database),
    spillPath: join(directory, `spill-${database.backend}-${batchMaxRows}.jsonl`),
    batchMaxRows,
    flushIntervalMs: 50,
    maxQueueRows: 100_000, // measure the insert path, not the spill file
  });
  const rows = ROWS[batchMaxRows];
  const started = performance.now();
  for (let index = 0; index < rows; index += 1) {
    log.append(benchRow(`bench-${index}`));
  }
  await log.close();
  const seconds = (performance.now() - started) / 1000;
  const count = await database.query<{ total: string | number }>('select count(*) as total from model_inferences');
  if (Number(count.rows[0].total) !== rows) throw new Error(`expected ${rows} rows, found ${count.rows[0].total}`);
  return rows / seconds;
}

const directory = await mkdtemp(join(tmpdir(), 'sluice-bench-log-'));
const results: Array<{ backend: string; batch: number; rows: number; rowsPerSecond: number; ratio: number }> = [];
async function run(backend: string, database: SqlDatabase) {
  const single = await measure(database, 1, directory);
  const batched = await measure(database, 100, directory);
  results.push({ backend, batch: 1, rows: ROWS[1], rowsPerSecond: single, ratio: 1 });
  results.push({ backend, batch: 100, rows: ROWS[100], rowsPerSecond: batched, ratio: batched / single });
}

try {
  const pglite = await openPgliteDatabase({ dataDir: join(directory, 'data') });
  await run('PGlite 0.5.14 (nodefs)', pglite);
  await pglite.close();
  if (findPostgresBin() !== undefined) {
    const server = await startPostgresServer();
    const postgres = await openPostgresDatabase({ connectionString: server.url });
    try {
      await run('PostgreSQL 16.2 (pgserver, loopback, fsync=off)', postgres);
    } finally {
      await postgres.close();
      await server.destroy();
    }
  }
} finally {
  await rm(directory, { recursive: true, force: true });
}

const cpu = cpus();
console.log(`Machine: ${cpu[0]?.model ?? 'unknown CPU'} × ${cpu.length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}`);
console.log('');
console.log('| backend | rows per INSERT | rows | rows/s | vs 1 row/INSERT |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const result of results) {
  console.log(`| ${result.backend} | ${result.batch} | ${result.rows} | ${Math.round(result.rowsPerSecond)} | ${result.ratio.toFixed(1)}× |`);
}
