/**
 * Scaling out as deploy/docker-compose.yml does it: three built gateway processes behind a real
 * nginx, sharing one Redis and one Postgres (with pgvector), and nothing else. Through the balancer
 * the three act as one gateway: one budget (the cap holds, however the requests are spread), one
 * response cache (an answer made by one instance is a hit on the others), and one inference log
 * that an instance killed mid-load loses no row of (its journal is replayed when it is started
 * again), while the others carry the rest of the load.
 */
import pg from 'pg';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/auth/key-store.js';
import { openPostgresDatabase } from '../../src/store/postgres-store.js';
import { RedisBudgetGuard } from '../../src/budget/redis-budget-guard.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai.js';
import { startGatewayCluster, stopGatewayCluster, type GatewayInstance } from '../support/gateway-cluster.js';
import { startNginx, type NginxServer } from '../support/nginx-server.js';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

const CAPPED_KEY = 'sk-scale-capped-team';
const LOAD_KEY = 'sk-scale-load-team';
const CAP_USD = 1;
const PRICE = { input_per_1m: 1000, output_per_1m: 1000 }; // $0.001 a token
const CONCURRENCY = 12;

let redis: RedisServer;
let postgres: PostgresServer;
let vendor: FakeOpenAI;
let instances: GatewayInstance[] = [];
let nginx: NginxServer;
let database: pg.Pool;

function clusterConfig(vendorUrl: string) {
  return {
    server: { log_level: 'warn', shutdown_grace_ms: 5_000 },
    auth: {
      keys: [
        { name: 'capped', key_sha256: sha256Hex(CAPPED_KEY), monthly_budget_usd: CAP_USD },
        { name: 'load', key_sha256: sha256Hex(LOAD_KEY) },
      ],
    },
    backends: { openai: { type: 'openai', base_url: vendorUrl, api_key_env: 'OPENAI_API_KEY', timeout_ms: 10_000 } },
    models: [{ id: 'metered', backend: 'openai', capabilities: ['chat', 'stream'], price: PRICE }],
    budget: { monthly_usd: 1_000, on_exceeded: 'refuse' },
    // Exact repeats only: the semantic side would need the local embedding model in every instance.
    cache: { enabled: true, semantic: false },
  };
}

interface Outcome {
  status: number;
  requestId: string | null;
  startedAt: number;
  /** When the client had the whole answer. */
  finishedAt: number;
  costUsd: number;
  cache: string | null;
  body: { error?: { type?: string; code?: string } } | undefined;
}

async function chat(origin: string, key: string, content: string): Promise<Outcome> {
  const startedAt = Date.now();
  try {
    const response = await fetch(`${origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'metered', messages: [{ role: 'user', content }], max_tokens: 20, temperature: 0 }),
    });
    // nginx's own errors (502 when the gateway died holding the request) are HTML.
    const isJson = response.headers.get('content-type')?.includes('application/json');
    const body = isJson ? ((await response.json()) as Outcome['body']) : (await response.text(), undefined);
    return {
      status: response.status,
      requestId: response.headers.get('x-sluice-request-id'),
      startedAt,
      finishedAt: Date.now(),
      costUsd: Number(response.headers.get('x-sluice-cost-usd') ?? 0),
      cache: response.headers.get('x-sluice-cache'),
      body,
    };
  } catch {
    // The balancer hung up (its upstream died mid-request): no answer, nothing accepted.
    return { status: 0, requestId: null, startedAt, finishedAt: Date.now(), costUsd: 0, cache: null, body: undefined };
  }
}

/** `workers` clients, each sending one request after another until `isDone()`. */
async function drive(workers: number, isDone: () => boolean, send: (index: number) => Promise<Outcome>): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!isDone()) outcomes.push(await send(next++));
    }),
  );
  return outcomes;
}

/** Chat requests an instance answered, by status, from its own /metrics. */
async function chatRequestsAnswered(origin: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const byStatus = new Map<string, number>();
  for (const match of text.matchAll(/^sluice_requests_total\{([^}]*)\} (\d+)$/gm)) {
    const status = /status="(\d+)"/.exec(match[1])?.[1];
    if (!match[1].includes('endpoint="chat"') || status === undefined) continue;
    byStatus.set(status, (byStatus.get(status) ?? 0) + Number(match[2]));
  }
  return byStatus;
}

/** Rows in the shared log per request id. */
async function logRows(requestIds: readonly string[]): Promise<Map<string, { count: number; costUsd: number }>> {
  const result = await database.query<{ request_id: string; count: string; cost: string | null }>(
    'select request_id, count(*) as count, sum(cost) as cost from model_inferences where request_id = any($1) group by request_id',
    [requestIds],
  );
  return new Map(result.rows.map((row) => [row.request_id, { count: Number(row.count), costUsd: Number(row.cost ?? 0) }]));
}

beforeAll(async () => {
  [redis, postgres, vendor] = await Promise.all([startRedisServer(), startPostgresServer(), startFakeOpenAI()]);
  instances = await startGatewayCluster({
    count: 3,
    config: clusterConfig(vendor.url),
    env: { REDIS_URL: redis.url, DATABASE_URL: postgres.url, OPENAI_API_KEY: vendor.apiKey, SLUICE_MASTER_KEY: 'sk-scale-master-0123' },
  });
  nginx = await startNginx({ upstreamPorts: instances.map((instance) => instance.port) });
  database = new pg.Pool({ connectionString: postgres.url, max: 2 });
}, 90_000);

afterAll(async () => {
  await nginx?.stop();
  await stopGatewayCluster(instances);
  await database?.end();
  await vendor?.close();
  await Promise.all([redis?.stop(), postgres?.destroy()]);
});

describe('three gateways behind nginx, one Redis, one Postgres', () => {
  it('spend one budget: the cap holds across all three, and the refusals are insufficient_quota', async () => {
    let refusals = 0;
    const outcomes = await drive(CONCURRENCY, () => refusals >= CONCURRENCY, async (index) => {
      const outcome = await chat(nginx.origin, CAPPED_KEY, `budget question number ${index}: one two three four`);
      if (outcome.status === 429) refusals += 1;
      return outcome;
    });
    const accepted = outcomes.filter((outcome) => outcome.status === 200);
    const refused = outcomes.filter((outcome) => outcome.status !== 200);
    expect(accepted.length).toBeGreaterThan(10);
    for (const outcome of refused) {
      expect(outcome.status).toBe(429);
      expect(outcome.body?.error).toMatchObject({ type: 'insufficient_quota', code: 'budget_exceeded' });
    }
    // The shared ledger: what was charged, nothing left held, under the cap.
    const client = createClient({ url: redis.url });
    await client.connect();
    const [ledger] = await new RedisBudgetGuard(client).snapshot([{ scope: 'tenant:capped', capUsd: CAP_USD }]);
    await client.quit();
    expect(ledger.heldUsd).toBe(0);
    expect(ledger.spentUsd).toBeLessThanOrEqual(CAP_USD);
    const charged = accepted.reduce((sum, outcome) => sum + outcome.costUsd, 0);
    expect(ledger.spentUsd).toBeCloseTo(charged, 6);
    // Close to the cap: refusals begin while the last requests still hold their estimates.
    expect(charged).toBeGreaterThan(CAP_USD / 2);
    // nginx spread them: every instance answered its share, and refused its share at the cap.
    for (const instance of instances) {
      const answered = await chatRequestsAnswered(instance.origin);
      expect(answered.get('200')).toBeGreaterThan(0);
      expect(answered.get('429')).toBeGreaterThan(0);
    }
  }, 60_000);

  it('share one cache: an answer made through one instance is an exact hit on the other two', async () => {
    const question = 'Which planet has the most moons?';
    const [first, second, third] = instances;
    expect((await chat(first.origin, LOAD_KEY, question)).cache).toBe('miss');
    // The answer is stored as the response leaves: once the first instance itself hits, it is in Redis.
    for (let attempt = 0; (await chat(first.origin, LOAD_KEY, question)).cache !== 'exact'; attempt++) {
      if (attempt > 20) throw new Error('the first instance never found its own answer');
    }
    const vendorCalls = vendor.calls('/v1/chat/completions');
    expect(await chat(second.origin, LOAD_KEY, question)).toMatchObject({ status: 200, cache: 'exact', costUsd: 0 });
    expect(await chat(third.origin, LOAD_KEY, question)).toMatchObject({ status: 200, cache: 'exact', costUsd: 0 });
    const throughBalancer = await Promise.all(Array.from({ length: 6 }, () => chat(nginx.origin, LOAD_KEY, question)));
    expect(throughBalancer.map((outcome) => outcome.cache)).toEqual(Array(6).fill('exact'));
    expect(vendor.calls('/v1/chat/completions')).toBe(vendorCalls);
  }, 30_000);

  it('lose no log row of an answer given before one instance is killed mid-load, and the other two carry the rest', async () => {
    const [victim] = instances;
    const loadMs = 5_000;
    const killAfterMs = 1_500;
    const started = Date.now();
    let killedAt = Number.POSITIVE_INFINITY;
    let goneAt = Number.POSITIVE_INFINITY;
    const killing = new Promise<void>((done) => setTimeout(done, killAfterMs)).then(async () => {
      killedAt = Date.now();
      await victim.kill();
      goneAt = Date.now();
    });
    const vendorCallsBefore = vendor.calls('/v1/chat/completions');
    const outcomes = await drive(CONCURRENCY, () => Date.now() - started > loadMs, (index) => chat(nginx.origin, LOAD_KEY, `load question ${index}`));
    await killing;
    const vendorCalls = vendor.calls('/v1/chat/completions') - vendorCallsBefore;
    expect(victim.isAlive()).toBe(false);
    const accepted = outcomes.filter((outcome) => outcome.status === 200);
    expect(accepted.filter((outcome) => outcome.startedAt < killedAt).length).toBeGreaterThan(CONCURRENCY);
    // Once the victim is gone, nginx finds it refusing connections and passes each new request
    // to the next one: none fails. Only requests already sent to the victim may (a POST is never
    // sent twice, so those are the client's to retry) — including one sent on an idle keep-alive
    // connection in the moment before nginx sees that connection close, hence the margin.
    const afterKill = outcomes.filter((outcome) => outcome.startedAt > goneAt + 250);
    expect(afterKill.length).toBeGreaterThan(CONCURRENCY);
    expect(afterKill.filter((outcome) => outcome.status !== 200)).toEqual([]);
    const failed = outcomes.filter((outcome) => outcome.status !== 200);
    expect(failed.length).toBeLessThanOrEqual(CONCURRENCY);
    expect(failed.map((outcome) => outcome.status)).toEqual(failed.map(() => 502));
    // Nothing was sent twice: the vendor saw each accepted request once, plus at most the ones
    // the victim had passed on when it died.
    expect(vendorCalls).toBeGreaterThanOrEqual(accepted.length);
    expect(vendorCalls).toBeLessThanOrEqual(accepted.length + failed.length);
    // Its supervisor starts the victim again on its data dir, and it serves again.
    await victim.restart();
    expect((await chat(victim.origin, LOAD_KEY, 'back after the crash')).status).toBe(200);
    // All drain on SIGTERM, flushing their logs; the victim's first life had no chance to.
    await Promise.all(instances.map((instance) => instance.stop()));
    const rows = await logRows(accepted.map((outcome) => outcome.requestId!));
    const lost = accepted.filter((outcome) => rows.get(outcome.requestId!)?.count !== 1);
    // The victim's queued rows were journalled on disk as each was appended, and its restart
    // replayed them: every answer a client got has its row, once — except one the victim was
    // handing out at the instant it died, as a row is appended just after its answer is written
    // (src/server/app.ts, on the response's close), a window of a fraction of a millisecond. An
    // in-memory log instead loses the whole last second (its flush interval) of answers.
    const instantMs = 100;
    expect(lost.filter((outcome) => outcome.finishedAt < killedAt - instantMs)).toEqual([]);
    expect(lost.length).toBeLessThanOrEqual(CONCURRENCY);
  }, 60_000);
});

describe('gateways starting together against a fresh database', () => {
  it('all come up: each migrates it or finds it migrated, and every migration is applied once', async () => {
    for (let round = 0; round < 3; round += 1) {
      const name = `fresh_${round}`;
      await database.query(`create database ${name}`);
      const url = postgres.url.replace(/\/postgres$/, `/${name}`);
      const opened = await Promise.allSettled(Array.from({ length: 8 }, () => openPostgresDatabase({ connectionString: url, maxConnections: 1 })));
      const reasons = opened.flatMap((outcome) => (outcome.status === 'rejected' ? [String(outcome.reason)] : []));
      await Promise.all(opened.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.close() : undefined)));
      expect(reasons).toEqual([]);
      const fresh = new pg.Client({ connectionString: url });
      await fresh.connect();
      const versions = await fresh.query<{ version: string; count: string }>('select version, count(*) from sluice_migrations group by version');
      await fresh.end();
      expect(versions.rows.length).toBeGreaterThan(0);
      expect(versions.rows.filter((row) => row.count !== '1')).toEqual([]);
    }
  }, 60_000);
});
