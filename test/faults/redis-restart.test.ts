/**
 * Fault: the shared Redis (budget ledger and response cache) stops mid-run, with requests in
 * flight, and starts again. Redis keeps its data as a production one holding a ledger would (an
 * append-only file). While it is away a paid call is refused with a clean 503 (the cap is never
 * crossed blind) and the cache answers misses; requests already paid for and answering are
 * answered, and their cost reaches the ledger once Redis is back: afterwards the ledger's spend is
 * exactly what the log's rows cost, and nothing is still held.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { slowDelayMs } from '../fakes/fake-openai-scenarios.js';
import { expectLedgerMatchesLog, ledgerMicroUsd, logTotals, startFaultGateway, type FaultGateway } from '../support/fault-accounting.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

/** How long Redis may take to come back and the gateway to reconnect to it. */
const RECONNECT_MS = 15_000;

const redisDir = mkdtempSync(join(tmpdir(), 'sluice-redis-faults-'));
let redis: RedisServer;
let fault: FaultGateway;

beforeAll(async () => {
  redis = await startRedisServer(undefined, { persistDir: redisDir });
  fault = await startFaultGateway((raw) => {
    raw.storage = { redis_url: redis.url };
    raw.cache = { enabled: true, semantic: false };
  });
  await fault.sluice.gateway.ready;
}, 60_000);
afterAll(async () => {
  await fault?.close();
  await redis?.stop();
});

const ask = (model: string, content: string) => ({ model, messages: [{ role: 'user' as const, content }] });

describe('Redis stopped and restarted mid-run', () => {
  it('refuses new paid calls cleanly while it is away, answers those in flight, and the ledger matches the log afterwards', async () => {
    const { client, sluice } = fault;
    const before = await ledgerMicroUsd(sluice.origin);
    const requestIds: string[] = [];
    const idOf = (response: Response) => requestIds.push(response.headers.get('x-sluice-request-id')!);

    // Up: paid answers, and an exact repeat from the cache in Redis.
    for (let index = 0; index < 10; index++) idOf((await client.chat.completions.create(ask('gpt-4o-mini', `before ${index}`)).withResponse()).response);
    const hit = await client.chat.completions.create(ask('gpt-4o-mini', 'before 3')).withResponse();
    expect(hit.response.headers.get('x-sluice-cache')).toBe('exact');
    idOf(hit.response);

    // Requests reserved and waiting on a slow vendor when Redis goes away.
    const arrivals = sluice.openai.requests.length;
    const inFlight = Array.from({ length: 5 }, (_, index) => client.chat.completions.create(ask('only-slow', `in flight ${index}`)).withResponse());
    await vi.waitFor(() => expect(sluice.openai.requests.length).toBe(arrivals + 5), { timeout: slowDelayMs });
    await redis.stop();

    // Down: a paid call is refused at once with a clean 503; the vendor is not called.
    const vendorCalls = sluice.openai.calls('/v1/chat/completions');
    const refused = await client.chat.completions.create(ask('gpt-4o-mini', 'during')).catch((caught) => caught);
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect(refused.status).toBe(503);
    expect(refused.error).toMatchObject({ type: 'upstream_error', code: 'upstream_unavailable', message: expect.stringMatching(/budget ledger is unreachable/) });
    expect(sluice.openai.calls('/v1/chat/completions')).toBe(vendorCalls);
    requestIds.push(refused.headers.get('x-sluice-request-id'));

    // Those already paid for are answered in full.
    for (const { data, response } of await Promise.all(inFlight)) {
      expect(data.choices[0].message.content).toMatch(/^You said: in flight \d$/);
      idOf(response);
    }
    expect((await fetch(`${sluice.origin}/health`)).status).toBe(200);

    // Back, with its data: paid calls work again and the in-flight costs have reached the ledger.
    redis = await startRedisServer(redis.port, { persistDir: redisDir });
    await vi.waitFor(
      async () => {
        const { response } = await client.chat.completions.create(ask('gpt-4o-mini', 'after')).withResponse();
        idOf(response);
      },
      { timeout: RECONNECT_MS, interval: 200 },
    );
    const totals = await logTotals(fault.store, requestIds);
    expect(totals.costMicroUsd).toBeGreaterThan(0);
    await vi.waitFor(() => expectLedgerMatchesLog(fault, before, requestIds), { timeout: RECONNECT_MS, interval: 200 });
  }, 90_000);
});

export { once };
