/**
 * If the shared Redis ledger goes away, paid calls stop (the cap is never crossed blind) with a
 * clear 503 rather than an internal error, and the gateway stays up.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

let redis: RedisServer;
let sluice: TestGateway;

beforeAll(async () => {
  redis = await startRedisServer();
  sluice = await startTestGateway((raw) => {
    raw.storage = { redis_url: redis.url };
  });
  await sluice.gateway.ready;
}, 60_000);

afterAll(async () => {
  await sluice?.close();
  await redis?.stop();
});

describe('budget ledger unreachable', () => {
  it('refuses paid calls with 503 and does not call the vendor', async () => {
    const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: 'unused', maxRetries: 0, timeout: 20_000 });
    const ask = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hello' }] };
    const { response } = await client.chat.completions.create(ask).withResponse();
    expect(response.status).toBe(200);

    await redis.stop();
    const before = sluice.openai.calls('/v1/chat/completions');
    const error = await client.chat.completions.create(ask).catch((caught) => caught);
    expect(error.status).toBe(503);
    expect(error.error.message).toMatch(/budget ledger is unreachable/);
    expect(sluice.openai.calls('/v1/chat/completions')).toBe(before);
    expect((await fetch(`${sluice.origin}/health`)).status).toBe(200);
  }, 60_000);
});
