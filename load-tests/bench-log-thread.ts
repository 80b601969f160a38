/**
 * What the inference log's database work costs the gateway's event loop: PGlite on the main
 * thread (the baseline) vs PGlite on its worker thread (pglite-thread.ts), both behind the real
 * BatchedInferenceLog and SqlRowSink, measured in one run, interleaved round by round.
 *
 * Two phases per round and backend:
 *  - paced: rows appended at a steady rate (as a gateway serving that many requests/s would),
 *    while perf_hooks.monitorEventLoopDelay samples the main loop every millisecond and
 *    eventLoopUtilization says how busy it was;
 *  - flat out: all rows appended at once, then the log is closed: rows/s into the database.
 * A "no database" sink (accepts and drops) gives the loop's floor under the same load.
 *
 * Run: node --import tsx load-tests/bench-log-thread.ts [--rows 20000] [--rate 2000] [--rounds 3]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { BatchedInferenceLog } from '../src/store/batched-inference-log.js';
import type { InferenceRow, RowSink } from '../src/store/inference-log.js';
import { openPgliteDatabase } from '../src/store/pglite-store.js';
import { openPgliteThreadDatabase } from '../src/store/pglite-thread.js';
import type { SqlDatabase } from '../src/store/sql-database.js';
import { SqlRowSink } from '../src/store/sql-row-sink.js';
import { benchRow } from './bench-rows.js';

const { values: args } = parseArgs({
  options: { rows: { type: 'string', default: '20000' }, rate: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '3' } },
});
const ROWS = Number(args.rows);
const RATE = Number(args.rate); // rows/s in the paced phase
const ROUNDS = Number(args.rounds);
const TICK_MS = 5;

interface Figures {
  /** Paced phase, main loop delay in ms. */
  p50: number;
  p99: number;
  max: number;
  /** Paced phase: share of the time the main loop was busy. */
  utilization: number;
  /** Flat-out phase: rows per second from the first append to the log closed. */
  rowsPerSecond: number;
}

interface Backend {
  name: string;
  sink: RowSink;
  /** Empties the table between phases; checks the count first. */
  reset(expected: number): Promise<void>;
}

const row = (round: string, index: number): InferenceRow => ({ ...benchRow(`${round}-${index}`), createdAt: new Date() });

function openLog(backend: Backend, spillPath: string): Promise<BatchedInferenceLog> {
  // The shipped batching (100 rows, 1 s) would leave the paced phase waiting on the timer: 100 ms.
  return BatchedInferenceLog.open({ sink: backend.sink, spillPath, batchMaxRows: 100, flushIntervalMs: 100, maxQueueRows: 1_000_000 });
}

/** `rows` rows at `RATE` per second, a few every TICK_MS, then the log closed; the loop watched throughout. */
async function paced(backend: Backend, tag: string, directory: string) {
  const log = await openLog(backend, join(directory, `spill-${tag}.jsonl`));
  const perTick = Math.max(1, Math.round((RATE * TICK_MS) / 1000));
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const utilizationAtStart = performance.eventLoopUtilization();
  delay.enable();
  const started = performance.now();
  let appended = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      // Appends due by now, so a late tick catches up as a busy gateway would.
      const due = Math.min(ROWS, Math.floor(((performance.now() - started) / 1000) * RATE) + perTick);
      while (appended < due) log.append(row(tag, appended++));
      if (appended >= ROWS) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  await log.close();
  delay.disable();
  const utilization = performance.eventLoopUtilization(utilizationAtStart).utilization;
  await backend.reset(ROWS);
  const ms = (nanoseconds: number) => nanoseconds / 1e6;
  return { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max), utilization };
}

/** All rows at once, then close: how fast the log drains into the database. */
async function flatOut(backend: Backend, tag: string, directory: string): Promise<number> {
  const log = await openLog(backend, join(directory, `spill-${tag}-flat.jsonl`));
  const started = performance.now();
  for (let index = 0; index < ROWS; index += 1) log.append(row(`${tag}-flat`, index));
  await log.close();
  const seconds = (performance.now() - started) / 1000;
  await backend.reset(ROWS);
  return ROWS / seconds;
}

function sqlBackend(name: string, database: SqlDatabase): Backend {
  return {
    name,
    sink: new SqlRowSink(database),
    async reset(expected) {
      const { rows } = await database.query<{ total: number }>('select count(*)::int as total from model_inferences');
      if (rows[0].total !== expected) throw new Error(`${name}: expected ${expected} rows, found ${rows[0].total}`);
      await database.exec('truncate model_inferences');
    },
  };
}

const noDatabase: Backend = { name: 'no database (rows dropped)', sink: { insert: async () => {} }, reset: async () => {} };

const directory = await mkdtemp(join(tmpdir(), 'sluice-bench-log-thread-'));
const figures = new Map<string, Figures[]>();
try {
  const [mainThread, workerThread] = await Promise.all([
    openPgliteDatabase({ dataDir: join(directory, 'main') }),
    openPgliteThreadDatabase({ dataDir: join(directory, 'worker') }),
  ]);
  const backends = [sqlBackend('PGlite on the main thread (baseline)', mainThread), sqlBackend('PGlite on a worker thread', workerThread), noDatabase];
  try {
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [index, backend] of backends.entries()) {
        const tag = `r${round}-b${index}`;
        const loop = await paced(backend, tag, directory);
        const rowsPerSecond = await flatOut(backend, tag, directory);
        figures.set(backend.name, [...(figures.get(backend.name) ?? []), { ...loop, rowsPerSecond }]);
      }
    }
  } finally {
    await Promise.all([mainThread.close(), workerThread.close()]);
  }
} finally {
  await rm(directory, { recursive: true, force: true });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const summary = [...figures].map(([name, runs]) => ({
  name,
  p50: median(runs.map((run) => run.p50)),
  p99: median(runs.map((run) => run.p99)),
  max: Math.max(...runs.map((run) => run.max)),
  utilization: median(runs.map((run) => run.utilization)),
  rowsPerSecond: median(runs.map((run) => run.rowsPerSecond)),
}));
const baseline = summary[0];
const cpu = cpus();
console.log(`Machine: ${cpu[0]?.model ?? 'unknown CPU'} × ${cpu.length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}`);
console.log(`Inference log into PGlite 0.5.14 (nodefs): ${ROWS} rows paced at ${RATE} rows/s, then ${ROWS} flat out; ${ROUNDS} interleaved rounds (medians; max over rounds)`);
console.log('');
console.log('| backend | loop delay p50 | p99 | max | main loop busy | rows/s flat out | p99 vs baseline | max vs baseline | rows/s vs baseline |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const entry of summary) {
  const ratio = (value: number, base: number) => `${(value / base).toFixed(2)}×`;
  console.log(
    `| ${entry.name} | ${entry.p50.toFixed(2)} ms | ${entry.p99.toFixed(2)} ms | ${entry.max.toFixed(1)} ms | ${(entry.utilization * 100).toFixed(0)}% | ` +
      `${Math.round(entry.rowsPerSecond)} | ${ratio(entry.p99, baseline.p99)} | ${ratio(entry.max, baseline.max)} | ${ratio(entry.rowsPerSecond, baseline.rowsPerSecond)} |`,
  );
}
