/**
 * Budget guard overhead per request: one reserve + one settle, in-process (MemoryBudgetGuard) vs
 * Redis on loopback (RedisBudgetGuard, a throwaway redis-server), measured in one run on one machine.
 * Run: node --import tsx load-tests/bench-budget.ts   (BENCH_ITERATIONS to change the sample size)
 */
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { createClient } from 'redis';
import type { BudgetGuard, ScopeCap } from '../src/budget/budget-guard.js';
import { MemoryBudgetGuard } from '../src/budget/memory-budget-guard.js';
import { RedisBudgetGuard } from '../src/budget/redis-budget-guard.js';
import { startRedisServer } from '../test/support/redis-server.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20_000);
const IN_FLIGHT = 32;
const scopes: ScopeCap[] = [
  { scope: 'global', capUsd: 1_000_000 },
  { scope: 'tenant:bench', capUsd: 1_000_000 },
  { scope: 'model:gpt-4o-mini', capUsd: 1_000_000, period: 'day' },
];

async function reserveAndSettle(guard: BudgetGuard, index: number): Promise<void> {
  const outcome = await guard.reserve(scopes, 0.002, { requestId: `bench-${index}` });
  if (!outcome.ok) throw new Error(`refused at ${outcome.refusal.scope}`);
  await outcome.reservation.settle(0.0015);
}

/** One request at a time: what the guard adds to a single request's latency. */
async function sequential(guard: BudgetGuard) {
  for (let index = 0; index < 1_000; index += 1) await reserveAndSettle(guard, index); // warm-up
  const samplesUs: number[] = [];
  const startedNs = process.hrtime.bigint();
  for (let index = 0; index < ITERATIONS; index += 1) {
    const before = process.hrtime.bigint();
    await reserveAndSettle(guard, index);
    samplesUs.push(Number(process.hrtime.bigint() - before) / 1_000);
  }
  const elapsedS = Number(process.hrtime.bigint() - startedNs) / 1e9;
  samplesUs.sort((a, b) => a - b);
  const at = (quantile: number) => samplesUs[Math.min(samplesUs.length - 1, Math.floor(quantile * samplesUs.length))];
  return { opsPerSecond: ITERATIONS / elapsedS, p50Us: at(0.5), p99Us: at(0.99) };
}

/** IN_FLIGHT requests at once on one connection: the throughput one instance can push. */
async function concurrent(guard: BudgetGuard) {
  let next = 0;
  const startedNs = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < ITERATIONS) await reserveAndSettle(guard, next++);
    }),
  );
  return ITERATIONS / (Number(process.hrtime.bigint() - startedNs) / 1e9);
}

const redisVersion = execFileSync('redis-server', ['--version']).toString().match(/v=(\S+)/)?.[1] ?? 'unknown';
const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${os.platform()} ${os.release()}, Node ${process.version}, redis-server ${redisVersion}`;

const server = await startRedisServer();
const client = await createClient({ url: server.url }).connect();
try {
  const guards: [string, BudgetGuard][] = [
    ['in-process (MemoryBudgetGuard)', new MemoryBudgetGuard()],
    ['Redis loopback (RedisBudgetGuard)', new RedisBudgetGuard(client)],
  ];
  const rows: string[] = [];
  let baselineP50Us: number | undefined;
  for (const [name, guard] of guards) {
    const latency = await sequential(guard);
    const throughput = await concurrent(guard);
    baselineP50Us ??= latency.p50Us;
    rows.push(
      `| ${name} | ${Math.round(latency.opsPerSecond).toLocaleString('en-US')} | ${latency.p50Us.toFixed(1)} | ${latency.p99Us.toFixed(1)} | ${(latency.p50Us / baselineP50Us).toFixed(1)}× | ${Math.round(throughput).toLocaleString('en-US')} |`,
    );
  }
  console.log(`\nBudget guard: reserve + settle across 3 scopes, ${ITERATIONS.toLocaleString('en-US')} requests each`);
  console.log(`Machine: ${machine}\n`);
  console.log(`| guard | sequential ops/s | p50 µs | p99 µs | p50 vs in-process | ops/s with ${IN_FLIGHT} in flight |`);
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const row of rows) console.log(row);
} finally {
  await client.quit();
  await server.stop();
}
