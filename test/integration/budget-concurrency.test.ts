/**
 * The plan's promise under load: two gateway processes sharing one real Redis ledger, a metered
 * vendor with a known price, a cap that fits a few dozen calls, 300 requests at once. Spend never
 * passes the cap, every accepted request reached the vendor exactly once and has exactly one log
 * row, every refused one got the OpenAI-style 429. Then the same with streams and with clients
 * that hang up mid-stream.
 */
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBudgetGuard } from '../../src/budget/redis-budget-guard.js';
import { parseConfig } from '../../src/config/load.js';
import { buildGateway, type Gateway } from '../../src/gateway.js';
import { openStore } from '../../src/store/open-store.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

const CAP_USD = 1.5;
const PRICE = { input_per_1m: 1000, output_per_1m: 1000 }; // $0.001 a token: costs are easy to reason about

interface Instance {
  url: string;
  /** Request ids in this instance's inference log. */
  rows(): Promise<string[]>;
  close(): Promise<void>;
}

let redis: RedisServer;
let vendor: FakeOpenAI;
let instances: Instance[] = [];

function instanceConfig(redisUrl: string, name: string) {
  return {
    server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
    paths: { data_dir: mkdtempSync(join(tmpdir(), `sluice-budget-${name}-`)) },
    backends: { openai: { type: 'openai', base_url: vendor.url, api_key: vendor.apiKey } },
    models: [{ id: 'metered', backend: 'openai', capabilities: ['chat', 'stream'], price: PRICE }],
    budget: { monthly_usd: CAP_USD, on_exceeded: 'refuse' },
    storage: { redis_url: redisUrl },
    // Every request here must reach the vendor and be charged: repeats answered free would not test the cap.
    cache: { enabled: false },
  };
}

/** This process's instance. */
async function startLocalInstance(redisUrl: string): Promise<Instance> {
  const raw = instanceConfig(redisUrl, 'a');
  const store = await openStore({ dataDir: raw.paths.data_dir, inferenceLog: { flushIntervalMs: 50 } });
  const gateway: Gateway = buildGateway(parseConfig(raw), pino({ level: 'silent' }), undefined, { inferenceLog: store.inferenceLog, store });
  await gateway.ready;
  const server = await gateway.listen(0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    async rows() {
      await store.inferenceLog.flush();
      const result = await store.database!.query<{ request_id: string }>('select request_id from model_inferences');
      return result.rows.map((row) => row.request_id);
    },
    close: () => gateway.close(),
  };
}

/** The other instance, in a process of its own: it shares nothing with this one but Redis. */
async function startChildInstance(redisUrl: string): Promise<Instance> {
  const child = fork(fileURLToPath(new URL('../support/gateway-process.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
  const reply = <T>(): Promise<T> => new Promise((resolve) => child.once('message', (message) => resolve(message as T)));
  const started = reply<{ url: string }>();
  const raw = instanceConfig(redisUrl, 'b');
  child.send({ config: raw, dataDir: raw.paths.data_dir });
  const { url } = await started;
  return {
    url,
    async rows() {
      const answer = reply<{ rows: string[] }>();
      child.send({ ask: 'rows' });
      return (await answer).rows;
    },
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ ask: 'close' });
      await exited;
    },
  };
}

async function spentUsd(): Promise<number> {
  const client = createClient({ url: redis.url });
  await client.connect();
  try {
    const [snapshot] = await new RedisBudgetGuard(client).snapshot([{ scope: 'global', capUsd: CAP_USD }]);
    expect(snapshot.heldUsd).toBe(0); // nothing left reserved once every request has finished
    return snapshot.spentUsd;
  } finally {
    await client.quit();
  }
}

async function logRowCount(requestIds: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const instance of instances) {
    for (const id of await instance.rows()) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return new Map(requestIds.map((id) => [id, counts.get(id) ?? 0]));
}

async function flushRedis() {
  const client = createClient({ url: redis.url });
  await client.connect();
  await client.flushAll();
  await client.quit();
}

beforeAll(async () => {
  redis = await startRedisServer();
  vendor = await startFakeOpenAI();
}, 60_000);

afterAll(async () => {
  for (const instance of instances) await instance.close();
  await vendor?.close();
  await redis?.stop();
});

describe('one budget, two gateway processes, 300 requests at once', () => {
  beforeAll(async () => {
    instances = [await startLocalInstance(redis.url), await startChildInstance(redis.url)];
  }, 60_000);

  for (const mode of ['json', 'stream', 'stream-abandoned'] as const) {
    it(`never overspends (${mode})`, async () => {
      await flushRedis();
      const vendorCallsBefore = vendor.calls('/v1/chat/completions');
      const outcomes = await Promise.all(
        Array.from({ length: 300 }, async (_, index) => {
          const instance = instances[index % 2];
          const controller = new AbortController();
          const response = await fetch(`${instance.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            signal: controller.signal,
            body: JSON.stringify({
              model: 'metered',
              messages: [{ role: 'user', content: 'one two three four five six seven eight' }],
              max_tokens: 20,
              ...(mode === 'json' ? {} : { stream: true }),
            }),
          });
          const requestId = response.headers.get('x-sluice-request-id')!;
          if (response.status !== 200) return { status: response.status, requestId, body: await response.json() };
          if (mode === 'stream-abandoned' && index % 3 === 0) {
            const reader = response.body!.getReader();
            await reader.read(); // the first frame arrived: the vendor was called; now hang up
            controller.abort();
            return { status: 200, requestId, abandoned: true };
          }
          await response.text();
          return { status: 200, requestId };
        }),
      );
      const accepted = outcomes.filter((outcome) => outcome.status === 200);
      const refused = outcomes.filter((outcome) => outcome.status !== 200);
      expect(accepted.length).toBeGreaterThan(10);
      expect(refused.length).toBeGreaterThan(0);
      for (const outcome of refused) {
        expect(outcome.status).toBe(429);
        expect(outcome.body.error).toMatchObject({ type: 'insufficient_quota', code: 'budget_exceeded' });
      }
      expect(vendor.calls('/v1/chat/completions') - vendorCallsBefore).toBe(accepted.length);
      // Settling happens as each request ends; give abandoned streams their `close`.
      await new Promise((resolve) => setImmediate(resolve));
      const spent = await waitForSettled();
      expect(spent).toBeGreaterThan(0);
      expect(spent).toBeLessThanOrEqual(CAP_USD);
      // Either instance's /metrics shows the shared ledger, not its own share of it.
      const metrics = await (await fetch(`${instances[1].url}/metrics`)).text();
      const scraped = Number(/sluice_budget_usd\{scope="global",kind="spent"\} ([\d.e-]+)/.exec(metrics)?.[1]);
      expect(scraped).toBeCloseTo(spent, 9);
      expect(metrics).toMatch(/sluice_inference_log_backlog_rows\{where="disk"\} 0/);
      const rows = await logRowCount(accepted.map((outcome) => outcome.requestId));
      expect([...rows.values()].filter((count) => count !== 1)).toEqual([]);
    }, 120_000);
  }
});

/** Abandoned streams settle when their socket closes; poll the ledger until no hold is left. */
async function waitForSettled(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await spentUsd();
    } catch (error) {
      if (attempt > 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
