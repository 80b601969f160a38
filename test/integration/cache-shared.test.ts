/**
 * One response cache for two gateway processes through a real redis-server: an answer cached
 * through one is served by the other (exact and paraphrase), a purge on one is seen by the other,
 * and with Redis stopped mid-run both keep answering (misses, no errors), then hit again once it
 * is back. The vendor is free here, so the budget ledger (also on Redis) stays out of the way.
 */
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { buildGateway, type Gateway } from '../../src/gateway.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

const MODELS_DIR = process.env.SLUICE_MODELS_DIR ?? 'models';
/** Time for an answer to be written to Redis (after it was sent), and for an insert or purge to reach the other process's index. */
const PROPAGATION_MS = 400;

let redis: RedisServer;
let vendor: FakeOpenAI;
let local: Gateway;
let child: ReturnType<typeof fork>;
const clients: { here?: OpenAI; there?: OpenAI } = {};
const urls: { here?: string; there?: string } = {};

function instanceConfig(name: string) {
  return {
    server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
    paths: { data_dir: mkdtempSync(join(tmpdir(), `sluice-cache-${name}-`)), models_dir: MODELS_DIR },
    backends: {
      openai: { type: 'openai', base_url: vendor.url, api_key: vendor.apiKey },
      'local-embeddings': { type: 'onnx', requires_key: false, options: { model_dir: 'embeddings/all-MiniLM-L6-v2' } },
    },
    models: [
      { id: 'free-chat', backend: 'openai', capabilities: ['chat', 'stream'], price: { input_per_1m: 0, output_per_1m: 0 } },
      { id: 'all-minilm-l6-v2', backend: 'local-embeddings', capabilities: ['embed'] },
    ],
    storage: { redis_url: redis.url },
    auth: { master_key: 'sk-master-shared' },
  };
}

beforeAll(async () => {
  [redis, vendor] = await Promise.all([startRedisServer(), startFakeOpenAI()]);
  child = fork(fileURLToPath(new URL('../support/gateway-process.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
  const started = new Promise<{ url: string }>((resolve) => child.once('message', (message) => resolve(message as { url: string })));
  const raw = instanceConfig('b');
  child.send({ config: raw, dataDir: raw.paths.data_dir });
  local = buildGateway(parseConfig(instanceConfig('a')), pino({ level: 'silent' }));
  await local.ready;
  const server = await local.listen(0, '127.0.0.1');
  urls.here = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  urls.there = (await started).url;
  clients.here = new OpenAI({ baseURL: `${urls.here}/v1`, apiKey: 'sk-master-shared', maxRetries: 0 });
  clients.there = new OpenAI({ baseURL: `${urls.there}/v1`, apiKey: 'sk-master-shared', maxRetries: 0 });
}, 90_000);

afterAll(async () => {
  const exited = child && new Promise((resolve) => child.once('exit', resolve));
  child?.send({ ask: 'close' });
  await exited;
  await local?.close();
  await Promise.all([redis?.stop(), vendor?.close()]);
});

async function ask(where: 'here' | 'there', content: string) {
  const before = vendor.calls('/v1/chat/completions');
  const { data, response } = await clients[where]!.chat.completions.create({ model: 'free-chat', messages: [{ role: 'user', content }] }).withResponse();
  return { text: data.choices[0].message.content, cache: response.headers.get('x-sluice-cache'), requestId: response.headers.get('x-sluice-request-id'), calledVendor: vendor.calls('/v1/chat/completions') > before };
}

describe('a cache shared through Redis', () => {
  it('an answer cached through one process is served by the other, exact or paraphrased', async () => {
    const first = await ask('here', 'What is the tallest mountain in Africa?');
    expect(first).toMatchObject({ cache: 'miss', calledVendor: true });
    await sleep(PROPAGATION_MS); // the answer is written to Redis after it was sent
    expect(await ask('there', 'What is the tallest mountain in Africa?')).toMatchObject({ cache: 'exact', calledVendor: false, text: first.text });
    await sleep(PROPAGATION_MS);
    expect(await ask('there', "what's the tallest mountain in Africa")).toMatchObject({ cache: 'semantic', calledVendor: false, text: first.text });
  });

  it('a purge on one process is seen by the other', async () => {
    await ask('here', 'How many strings does a standard guitar have?');
    await sleep(PROPAGATION_MS);
    const purge = await fetch(`${urls.there}/admin/cache`, { method: 'DELETE', headers: { authorization: 'Bearer sk-master-shared' } });
    expect(purge.status).toBe(200);
    await sleep(PROPAGATION_MS);
    expect(await ask('here', 'How many strings does a standard guitar have?')).toMatchObject({ cache: 'miss', calledVendor: true });
    await sleep(PROPAGATION_MS);
    expect(await ask('there', 'How many strings does a standard guitar have?')).toMatchObject({ cache: 'exact', calledVendor: false });
  });

  it('with Redis stopped both answer as misses, without errors, and hit again once it is back', async () => {
    await redis.stop();
    for (const where of ['here', 'there'] as const) {
      for (let round = 0; round < 2; round++) expect(await ask(where, 'Which planet is known as the red planet?')).toMatchObject({ cache: 'miss', calledVendor: true });
    }
    redis = await startRedisServer(redis.port);
    await vi.waitFor(
      async () => {
        await ask('here', 'Name the longest river in South America.');
        expect(await ask('there', 'Name the longest river in South America.')).toMatchObject({ cache: 'exact', calledVendor: false });
      },
      { timeout: 15_000, interval: 250 },
    );
  }, 30_000);
});
