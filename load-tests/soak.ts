/**
 * Soak: the gateway as it ships (`src/main.ts` through tsx, or `dist/` with SOAK_GATEWAY=dist) in
 * a process of its own, with the default embedded store (PGlite on its thread) and the response
 * cache on, in front of the loopback fake vendor, under mixed traffic for SOAK_SECONDS (default
 * 1800): chat JSON, chat streams, embeddings, exact cache hits, a vendor that fails 30% of the
 * time with a fallback behind it, and two injected errors (a vendor 500 with no fallback, a body
 * the gateway must refuse). Every SOAK_SAMPLE_SECONDS (10) it records the gateway's resident
 * memory (/proc) and event-loop lag (prom-client's default metrics on /metrics) and prints a row.
 *
 * At the end, with the gateway drained and stopped, its inference log (the PGlite files it leaves)
 * must hold at least one row for every request sent and none for any other, and the ledger's
 * global spend (read from /metrics before the stop) must be exactly what those rows cost.
 *
 * Exits 1 if RSS grew more than SOAK_MAX_RSS_GROWTH (0.15) between just after the warm-up and the
 * end (medians of three samples each, so one GC's timing does not decide), if any request got
 * anything but what its kind expects, or if the log or the ledger is off by one request or one
 * micro-dollar. The last line is `SOAK_RESULT {json}` for the CI test.
 *
 * Load is paced (SOAK_RPS, default 50, at most SOAK_CONCURRENCY = 8 in flight) so a soak on a
 * shared 2-core machine measures memory over time, not the machine's saturation.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { openStore } from '../src/store/open-store.js';
import { startFakeOpenAI } from '../test/fakes/fake-openai.js';
import { freePort } from '../adapters/sidecar/sidecar-process.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 1800);
const SAMPLE_SECONDS = Number(process.env.SOAK_SAMPLE_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.SOAK_WARMUP_SECONDS ?? Math.min(120, Math.round(SECONDS / 4)));
const RPS = Number(process.env.SOAK_RPS ?? 50);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 8);
const MAX_RSS_GROWTH = Number(process.env.SOAK_MAX_RSS_GROWTH ?? 0.15);
const REQUEST_TIMEOUT_MS = 10_000;

type Kind = 'chat' | 'stream' | 'embedding' | 'cache-hit' | 'fallback' | 'vendor-500' | 'bad-request';

/** One cycle of 20 requests: the mix, in the order it is sent. */
const MIX: readonly Kind[] = [
  'chat', 'stream', 'chat', 'embedding', 'cache-hit', 'chat', 'stream', 'fallback', 'chat', 'embedding',
  'cache-hit', 'chat', 'stream', 'chat', 'vendor-500', 'embedding', 'cache-hit', 'chat', 'fallback', 'bad-request',
];
/** What a client must get back for each kind: the injected errors are expected errors. */
const EXPECTED_STATUS: Record<Kind, number> = { chat: 200, stream: 200, embedding: 200, 'cache-hit': 200, fallback: 200, 'vendor-500': 503, 'bad-request': 400 };

interface Sample {
  atSeconds: number;
  rssMiB: number;
  heapUsedMiB: number;
  lagP99Ms: number;
  lagMaxMs: number;
  requests: number;
  unexpected: number;
}

const vendor = await startFakeOpenAI();
// The fake keeps every request for tests to inspect; a soak has no use for them.
const forgetRequests = setInterval(() => vendor.requests.splice(0), 5_000);
const dataDir = mkdtempSync(join(tmpdir(), 'sluice-soak-'));
const port = await freePort();
const price = { input_per_1m: 0.15, output_per_1m: 0.6 };
const configPath = join(dataDir, 'sluice.json.yaml');
// JSON is YAML: the loader reads it as the shipped sluice.yaml.
writeFileSync(
  configPath,
  JSON.stringify({
    server: { host: '127.0.0.1', port, log_level: 'info' },
    paths: { data_dir: dataDir },
    backends: { openai: { type: 'openai', base_url: vendor.url, api_key: vendor.apiKey } },
    models: [
      { id: 'gpt-4o-mini', backend: 'openai', capabilities: ['chat', 'stream'], price },
      { id: 'text-embedding-3-small', backend: 'openai', capabilities: ['embed'], price: { input_per_1m: 0.02, output_per_1m: 0 } },
      { id: 'flaky', upstream_model: 'fake-flaky-500', backend: 'openai', capabilities: ['chat', 'stream'], price, fallback: ['gpt-4o-mini'] },
      { id: 'broken', upstream_model: 'fake-500', backend: 'openai', capabilities: ['chat', 'stream'], price },
    ],
    budget: { monthly_usd: 1_000_000 },
    cache: { enabled: true, semantic: false },
  }),
);

const entry = process.env.SOAK_GATEWAY === 'dist' ? ['dist/src/main.js'] : ['--import', 'tsx', 'src/main.ts'];
// pino's line per request goes to /dev/null: the soak measures the gateway, not a terminal.
const gateway = spawn(process.execPath, entry, { env: { ...process.env, SLUICE_CONFIG: configPath }, stdio: ['ignore', 'ignore', 'inherit'] });
const origin = `http://127.0.0.1:${port}`;
let hasExited = false;
let isStopping = false;
gateway.once('exit', (code) => {
  hasExited = true;
  if (!isStopping) console.error(`soak: the gateway exited with ${code} mid-run`);
});

await waitUntilReady().catch((error: unknown) => {
  gateway.kill('SIGKILL');
  throw error;
});
console.log(`soak: ${SECONDS} s of mixed traffic at ${RPS} req/s (${CONCURRENCY} at most in flight), warm-up ${WARMUP_SECONDS} s, gateway pid ${gateway.pid}`);
console.log('  t(s)  rss MiB  heap MiB  lag p99 ms  lag max ms  requests  unexpected');

const counts = new Map<Kind, { sent: number; unexpected: number }>(MIX.map((kind) => [kind, { sent: 0, unexpected: 0 }]));
const unexpectedExamples: string[] = [];
/** `x-sluice-request-id` of every answer, error or not: each must have its rows in the log. */
const requestIds = new Set<string>();
let scheduled = 0;
let sent = 0;
let unexpectedTotal = 0;
const startedMs = performance.now();
const endMs = startedMs + SECONDS * 1000;

const samples: Sample[] = [];
let lastSample = { requests: 0, unexpected: 0 };
const sampler = setInterval(() => void sample(), SAMPLE_SECONDS * 1000);
await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));
clearInterval(sampler);
// The last interval's sample, unless the timer just took it.
if ((samples.at(-1)?.atSeconds ?? 0) < SECONDS - SAMPLE_SECONDS / 2) await sample();

const ledger = await ledgerMicroUsd();
isStopping = true;
gateway.kill('SIGTERM'); // drains: every row is written before it exits
await Promise.race([new Promise((resolve) => gateway.once('exit', resolve)), delay(10_000)]);
if (!hasExited) gateway.kill('SIGKILL');
clearInterval(forgetRequests);
await vendor.close();
const log = await readLog();
const missingFromLog = [...requestIds].filter((id) => !log.requestIds.has(id)).length;
const strangersInLog = [...log.requestIds].filter((id) => !requestIds.has(id)).length;
const isAccountingExact = missingFromLog === 0 && strangersInLog === 0 && ledger.held === 0 && ledger.spent === log.costMicroUsd;

const afterWarmup = samples.filter((row) => row.atSeconds > WARMUP_SECONDS);
const baselineMiB = median(afterWarmup.slice(0, 3).map((row) => row.rssMiB));
const endMiB = median(afterWarmup.slice(-3).map((row) => row.rssMiB));
const rssGrowth = (endMiB - baselineMiB) / baselineMiB;
const injected = counts.get('vendor-500')!.sent + counts.get('bad-request')!.sent;
const isRssOk = afterWarmup.length >= 3 && rssGrowth <= MAX_RSS_GROWTH;
console.log(
  `soak: ${sent} requests (${injected} injected errors), ${unexpectedTotal} unexpected; RSS after warm-up ${baselineMiB.toFixed(1)} MiB → ` +
    `${endMiB.toFixed(1)} MiB at the end (${(100 * rssGrowth).toFixed(1)}%, limit ${(100 * MAX_RSS_GROWTH).toFixed(0)}%); ` +
    `lag p99 worst ${Math.max(...samples.map((row) => row.lagP99Ms)).toFixed(1)} ms`,
);
console.log(
  `soak: the log holds rows of ${log.requestIds.size} requests (${missingFromLog} answered requests missing, ${strangersInLog} unknown), ${log.rows} rows; ` +
    `ledger spent ${ledger.spent} µUSD, held ${ledger.held}, the rows cost ${log.costMicroUsd} µUSD`,
);
for (const example of unexpectedExamples) console.log(`  unexpected: ${example}`);
const accounting = { requestIds: requestIds.size, missingFromLog, strangersInLog, logRows: log.rows, logMicroUsd: log.costMicroUsd, ledgerSpentMicroUsd: ledger.spent, ledgerHeldMicroUsd: ledger.held };
const result = { seconds: SECONDS, sent, injected, unexpected: unexpectedTotal, byKind: Object.fromEntries(counts), baselineMiB, endMiB, rssGrowth, accounting, samples };
console.log(`SOAK_RESULT ${JSON.stringify(result)}`);
process.exit(isRssOk && unexpectedTotal === 0 && isAccountingExact && !hasExitedEarly() ? 0 : 1);

function hasExitedEarly(): boolean {
  return samples.some((row) => Number.isNaN(row.rssMiB));
}

/** A closed loop paced to RPS overall: request n leaves no earlier than n / RPS seconds in. */
async function worker(): Promise<void> {
  while (performance.now() < endMs && !hasExited) {
    const index = scheduled++;
    const dueMs = startedMs + (index * 1000) / RPS;
    if (dueMs > performance.now()) await delay(dueMs - performance.now());
    if (performance.now() >= endMs) return;
    sent++;
    const kind = MIX[index % MIX.length];
    const tally = counts.get(kind)!;
    tally.sent++;
    const problem = await send(kind, index).catch((error: Error) => `${error.name}: ${error.message}`);
    if (problem !== undefined) {
      tally.unexpected++;
      unexpectedTotal++;
      if (unexpectedExamples.length < 10) unexpectedExamples.push(`${kind} #${index}: ${problem}`);
    }
  }
}

/** Sends one request of `kind`; resolves undefined when the client got what it should, else what went wrong. */
async function send(kind: Kind, index: number): Promise<string | undefined> {
  const question = kind === 'cache-hit' ? `a question asked again and again, number ${index % 10}` : `soak question ${index}`;
  const model = kind === 'fallback' ? 'flaky' : kind === 'vendor-500' ? 'broken' : 'gpt-4o-mini';
  const body =
    kind === 'embedding'
      ? { model: 'text-embedding-3-small', input: `soak text ${index}` }
      : kind === 'bad-request'
        ? { model, messages: 'not a list' }
        : { model, messages: [{ role: 'user', content: question }], stream: kind === 'stream' };
  const response = await fetch(`${origin}/v1/${kind === 'embedding' ? 'embeddings' : 'chat/completions'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-soak' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  const requestId = response.headers.get('x-sluice-request-id');
  if (requestId === null) return `no x-sluice-request-id (status ${response.status})`;
  requestIds.add(requestId);
  if (response.status !== EXPECTED_STATUS[kind]) return `status ${response.status}: ${text.slice(0, 200)}`;
  if (kind === 'stream' && !text.trimEnd().endsWith('data: [DONE]')) return `a stream without [DONE]: ${text.slice(-200)}`;
  if (response.status === 200 && kind !== 'stream' && kind !== 'embedding' && !JSON.parse(text).choices?.[0]?.message?.content) return `no answer: ${text.slice(0, 200)}`;
  if (response.status !== 200 && JSON.parse(text).error?.message === undefined) return `not an OpenAI error: ${text.slice(0, 200)}`;
  return undefined;
}

async function sample(): Promise<void> {
  const atSeconds = Math.round((performance.now() - startedMs) / 1000);
  const metrics = await fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(5_000) })
    .then((response) => response.text())
    .catch(() => '');
  const gauge = (name: string) => Number(/^(\S+) (\S+)$/m.exec(metrics.split('\n').find((line) => line.startsWith(`${name} `)) ?? '')?.[2] ?? NaN);
  const row: Sample = {
    atSeconds,
    rssMiB: residentMiB(gateway.pid!),
    heapUsedMiB: gauge('sluice_process_nodejs_heap_size_used_bytes') / 2 ** 20,
    lagP99Ms: gauge('sluice_process_nodejs_eventloop_lag_p99_seconds') * 1000,
    lagMaxMs: gauge('sluice_process_nodejs_eventloop_lag_max_seconds') * 1000,
    requests: sent - lastSample.requests,
    unexpected: unexpectedTotal - lastSample.unexpected,
  };
  lastSample = { requests: sent, unexpected: unexpectedTotal };
  samples.push(row);
  const cells = [row.atSeconds, row.rssMiB.toFixed(1), row.heapUsedMiB.toFixed(1), row.lagP99Ms.toFixed(1), row.lagMaxMs.toFixed(1), row.requests, row.unexpected];
  const widths = [6, 9, 10, 12, 12, 10, 12];
  console.log(cells.map((cell, column) => String(cell).padStart(widths[column])).join(''));
}

/** The global spend and holds in micro-USD, as /metrics reports the ledger. */
async function ledgerMicroUsd(): Promise<{ spent: number; held: number }> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const read = (kind: string) => {
    const line = text.split('\n').find((row) => row.startsWith(`sluice_budget_usd{scope="global",kind="${kind}"}`));
    return line === undefined ? NaN : Math.round(Number(line.split(' ').at(-1)) * 1e6);
  };
  return { spent: read('spent'), held: read('held') };
}

/** The stopped gateway's log, from its PGlite files: which requests have rows, how many, what they cost. */
async function readLog(): Promise<{ requestIds: Set<string>; rows: number; costMicroUsd: number }> {
  const store = await openStore({ dataDir, pgliteOnCallingThread: true });
  try {
    const ids = await store.database.query<{ request_id: string }>('select distinct request_id from model_inferences');
    const totals = await store.database.query<{ rows: string; cost: string | null }>(
      'select count(*) as rows, sum(round(coalesce(cost, 0) * 1000000)) as cost from model_inferences',
    );
    return { requestIds: new Set(ids.rows.map((row) => row.request_id)), rows: Number(totals.rows[0].rows), costMicroUsd: Number(totals.rows[0].cost ?? 0) };
  } finally {
    await store.close();
  }
}

/** VmRSS of `pid` in MiB; NaN once it is gone. */
function residentMiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
  } catch {
    return NaN; // the process has exited: reported as a failed soak
  }
}

async function waitUntilReady(): Promise<void> {
  const deadline = performance.now() + 120_000;
  while (performance.now() < deadline && !hasExited) {
    const status = await fetch(`${origin}/ready`).then((response) => response.status, () => 0);
    if (status === 200) return;
    await delay(200);
  }
  throw new Error(hasExited ? 'the gateway exited before it was ready' : 'the gateway was not ready within 120 s');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)];
}

