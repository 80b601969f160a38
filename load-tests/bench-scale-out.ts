/**
 * Scale-out throughput: chat requests per second through nginx with 1 and then 3 built gateways
 * behind it, sharing one Redis (budget) and one Postgres (log), the vendor a loopback fake in a
 * process of its own, cache off (every request reaches the vendor, is reserved, settled and
 * logged). Also each gateway's CPU time per request, read from /proc: the per-instance figure that
 * does not depend on how many cores the machine lends the rest of the stack.
 * Run: node --import tsx load-tests/bench-scale-out.ts   (BENCH_SECONDS, BENCH_CONNECTIONS)
 * Needs dist/ (make setup builds it), redis-server, the pgserver Postgres and /usr/sbin/nginx.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { sha256Hex } from '../src/auth/key-store.js';
import { startGatewayCluster, stopGatewayCluster, type GatewayInstance } from '../test/support/gateway-cluster.js';
import { startNginx } from '../test/support/nginx-server.js';
import { startPostgresServer } from '../test/support/postgres-server.js';
import { startRedisServer } from '../test/support/redis-server.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const KEY = 'sk-bench-scale-out';
const CLOCK_TICKS_PER_SECOND = 100; // Linux USER_HZ

function config(vendorUrl: string) {
  return {
    server: { log_level: 'warn' },
    auth: { keys: [{ name: 'bench', key_sha256: sha256Hex(KEY), monthly_budget_usd: 1_000_000 }] },
    backends: { openai: { type: 'openai', base_url: vendorUrl, api_key_env: 'OPENAI_API_KEY' } },
    models: [{ id: 'gpt-4o-mini', backend: 'openai', capabilities: ['chat', 'stream'], price: { input_per_1m: 0.15, output_per_1m: 0.6 } }],
    budget: { monthly_usd: 1_000_000 },
    cache: { enabled: false },
  };
}

interface Vendor {
  url: string;
  apiKey: string;
  stop(): void;
}

async function startVendor(): Promise<Vendor> {
  const child = fork(fileURLToPath(new URL('./bench-servers.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
  const { url, apiKey } = await new Promise<{ url: string; apiKey: string }>((resolve) => child.once('message', (message) => resolve(message as never)));
  return { url, apiKey, stop: () => child.kill('SIGTERM') };
}

/** user + system CPU seconds of one process so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Processes whose parent is `pid` (nginx's workers, Postgres's backends). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** CPU seconds of a process and its live children. */
function treeCpuSeconds(pid: number): number {
  return [pid, ...childrenOf(pid)].reduce((sum, each) => {
    try {
      return sum + cpuSeconds(each);
    } catch {
      return sum; // a backend that ended meanwhile
    }
  }, 0);
}

/** What each part of the stack has used, in CPU seconds: the gateways, and every other child of this process by name. */
function cpuByPart(gateways: readonly GatewayInstance[]): Map<string, number> {
  const parts = new Map<string, number>([['gateways', 0]]);
  const gatewayPids = new Set(gateways.map((gateway) => gateway.pid));
  for (const pid of childrenOf(process.pid)) {
    const part = gatewayPids.has(pid) ? 'gateways' : readFileSync(`/proc/${pid}/comm`, 'utf8').trim().replace(/^node$/, 'vendor');
    parts.set(part, (parts.get(part) ?? 0) + treeCpuSeconds(pid));
  }
  const own = process.cpuUsage();
  parts.set('load generator', (own.user + own.system) / 1e6);
  return parts;
}

function load(origin: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${origin}/v1/chat/completions`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello in five words.' }], max_tokens: 16 }),
  });
}

async function measure(count: number, shared: { redisUrl: string; databaseUrl: string; vendor: { url: string; apiKey: string } }) {
  const instances: GatewayInstance[] = await startGatewayCluster({
    count,
    config: config(shared.vendor.url),
    env: { REDIS_URL: shared.redisUrl, DATABASE_URL: shared.databaseUrl, OPENAI_API_KEY: shared.vendor.apiKey },
  });
  const nginx = await startNginx({ upstreamPorts: instances.map((instance) => instance.port) });
  try {
    await load(nginx.origin, 2 * count); // warm-up, the same traffic per instance: JIT, pools, keep-alive connections
    const before = cpuByPart(instances);
    const result = await load(nginx.origin, SECONDS);
    const after = cpuByPart(instances);
    const ok = result['2xx'];
    const msPerRequest = (part: string) => Number(((((after.get(part) ?? 0) - (before.get(part) ?? 0)) * 1000) / Math.max(1, ok)).toFixed(3));
    return {
      row: {
        instances: count,
        requestsPerSecond: Math.round(ok / SECONDS),
        non2xx: result.non2xx + result.errors,
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
      },
      cpuMsPerRequest: Object.fromEntries([...after.keys()].map((part) => [part, msPerRequest(part)])),
    };
  } finally {
    await nginx.stop();
    await stopGatewayCluster(instances);
  }
}

const [redis, postgres, vendor] = await Promise.all([startRedisServer(), startPostgresServer(), startVendor()]);
try {
  const shared = { redisUrl: redis.url, databaseUrl: postgres.url, vendor };
  const results = [await measure(1, shared), await measure(3, shared)];
  const loadAverage = os.loadavg()[0].toFixed(1); // others' work on this machine skews every figure here
  console.log(`# scale-out through nginx: ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, load average ${loadAverage}, ${CONNECTIONS} connections, ${SECONDS} s each`);
  console.table(results.map((result) => result.row));
  console.log('# CPU ms per request, by part of the stack (all on this machine):');
  console.table(Object.fromEntries(results.map((result) => [`${result.row.instances} instance(s)`, result.cpuMsPerRequest])));
  const [one, three] = results;
  console.log(`3 instances / 1 instance: ${(three.row.requestsPerSecond / one.row.requestsPerSecond).toFixed(2)}× req/s`);
  console.log(`one gateway on one core of its own: ~${Math.round(1000 / one.cpuMsPerRequest.gateways)} req/s (1000 / its CPU ms per request)`);
} finally {
  vendor.stop();
  await Promise.all([redis.stop(), postgres.destroy()]);
}
