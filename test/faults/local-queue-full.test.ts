/**
 * Fault: the local model's line is full. SmolLM2-135M (GGUF, llama.cpp) on one slot with room for
 * one more in line (`queue_limit: 1`), and no time bound on the line, so the length alone refuses.
 * A request beyond it is refused by the slot pool at once: with a vendor in the chain the vendor
 * answers it (the client sees no failure), without one the client gets a clean OpenAI 429 with
 * `retry-after`, in milliseconds, not after a wait. Either way one log row per attempt and the
 * ledger charges exactly what the rows cost.
 */
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Adapter } from '../../adapters/spec/index.js';
import { expectLedgerMatchesLog, expectStillServing, ledgerMicroUsd, startFaultGateway, type FaultGateway } from '../support/fault-accounting.js';
import { MODELS_DIR, requireLocalModel, SMOLLM_FILE } from '../support/local-model-gateway.js';

const BURST = 64;
const CONCURRENCY = 16;
/** The target for the failure rate a client sees where a fallback exists. */
const MAX_FAILURE_RATE = 0.01;
/**
 * No hang: a refusal, or the vendor's answer after one, well inside the vendor backend's 10 s
 * timeout. (That nobody waited in line is shown by the rows: a refused attempt, not a local answer.)
 * Typically 200 ms; seconds when this 2-core machine is busy with other suites.
 */
const MAX_OVERFLOW_MS = 10_000;
const LONG_MS = 180_000;

const WITH_FALLBACK = 'smollm-queued';
const ALONE = 'smollm-queued-alone';

let fault: FaultGateway;
let local: Adapter;

beforeAll(async () => {
  requireLocalModel();
  fault = await startFaultGateway((raw) => {
    raw.paths.models_dir = MODELS_DIR;
    raw.backends['local-one-slot'] = {
      type: 'llama-cpp',
      requires_key: false,
      // One thread: the line fills just the same, and the suites beside this one keep a core.
      options: { model: SMOLLM_FILE, parallel: 1, queue_limit: 1, max_wait_ms: 600_000, context_size: 1024, default_max_tokens: 24, threads: 1 },
    };
    raw.models.push(
      { id: WITH_FALLBACK, backend: 'local-one-slot', capabilities: ['chat', 'stream'], fallback: ['gpt-4o-mini'] },
      { id: ALONE, backend: 'local-one-slot', capabilities: ['chat', 'stream'] },
    );
  }, LONG_MS);
  await fault.sluice.gateway.ready;
  local = fault.sluice.gateway.adapters.get('local-one-slot')!;
}, LONG_MS);
afterAll(() => fault?.close());

interface Timed {
  requestId: string;
  status: number;
  route: string | null;
  retryAfter: string | null;
  body: Record<string, any>;
  wallMs: number;
}

async function timedChat(model: string, content: string, extra: Record<string, unknown> = {}): Promise<Timed> {
  const startedMs = performance.now();
  const response = await fetch(`${fault.sluice.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${fault.sluice.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }], temperature: 0, ...extra }),
    signal: AbortSignal.timeout(LONG_MS),
  });
  const text = await response.text();
  const isJson = (response.headers.get('content-type') ?? '').includes('json');
  return {
    requestId: response.headers.get('x-sluice-request-id')!,
    status: response.status,
    route: response.headers.get('x-sluice-route'),
    retryAfter: response.headers.get('retry-after'),
    body: isJson ? JSON.parse(text) : { stream: text },
    wallMs: performance.now() - startedMs,
  };
}

async function attemptsOf(requestIds: readonly string[]) {
  await fault.store.inferenceLog.flush();
  const { rows } = await fault.store.database.query<{ request_id: string; attempt: number; model_id: string; outcome: string; error: string | null }>(
    'select request_id, attempt, model_id, outcome, error from model_inferences where request_id = any($1) order by request_id, attempt',
    [requestIds],
  );
  const byRequest = new Map<string, typeof rows>();
  for (const row of rows) byRequest.set(row.request_id, [...(byRequest.get(row.request_id) ?? []), row]);
  return byRequest;
}

/** Holds the only slot with a long streamed answer until `release` is called. */
async function holdTheSlot(): Promise<{ release(): Promise<void> }> {
  const holder = new AbortController();
  const response = await fetch(`${fault.sluice.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${fault.sluice.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: ALONE, messages: [{ role: 'user', content: 'Write a very long story about a dragon.' }], max_tokens: 900, stream: true }),
    signal: holder.signal,
  });
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  await reader.read(); // the first chunk: the slot is taken
  return {
    async release() {
      holder.abort();
      await reader.cancel().catch(() => undefined);
      // The generation stops at its next token; on a starved machine a token can take a second.
      await vi.waitFor(() => expect(local.load!().active).toBe(0), { timeout: 60_000, interval: 20 });
    },
  };
}

describe('the local model’s line full', () => {
  it(`with a vendor in the chain: a burst of ${BURST} sees no failure, the overflow answered by the vendor at once`, async () => {
    const before = await ledgerMicroUsd(fault.sluice.origin);
    const results: Timed[] = [];
    let next = 0;
    const worker = async () => {
      while (next < BURST) results.push(await timedChat(WITH_FALLBACK, `queue question ${next++}: name a colour.`));
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    const failed = results.filter((result) => result.status !== 200);
    const overflow = results.filter((result) => result.route === 'openai');
    const servedLocally = results.filter((result) => result.route === 'local');
    const rate = failed.length / BURST;
    const overflowMs = overflow.map((result) => result.wallMs).sort((a, b) => a - b);
    console.log(
      `[faults] local queue full (1 slot, queue_limit 1): ${BURST} requests at ${CONCURRENCY} at once, ${servedLocally.length} local, ` +
        `${overflow.length} (${((100 * overflow.length) / BURST).toFixed(1)}%) overflowed to the vendor, client saw ${failed.length} failures ` +
        `(${(100 * rate).toFixed(2)}%); overflow answered in p50 ${Math.round(overflowMs[Math.floor(overflowMs.length / 2)])} ms, ` +
        `slowest ${Math.round(overflowMs.at(-1)!)} ms`,
    );
    expect(failed.map((result) => result.body)).toEqual([]);
    expect(rate).toBeLessThan(MAX_FAILURE_RATE);
    expect(servedLocally.length + overflow.length).toBe(BURST);
    // One generating and one waiting at a time: most of 16 at once overflow.
    expect(overflow.length).toBeGreaterThan(BURST / 2);
    expect(servedLocally.length).toBeGreaterThanOrEqual(2);
    for (const result of overflow) expect(result.wallMs, 'an overflow answered well inside the timeouts').toBeLessThan(MAX_OVERFLOW_MS);

    const attempts = await attemptsOf(results.map((result) => result.requestId));
    for (const result of servedLocally) {
      expect(attempts.get(result.requestId)?.map(({ attempt, model_id, outcome }) => ({ attempt, model_id, outcome }))).toEqual([
        { attempt: 1, model_id: WITH_FALLBACK, outcome: 'answered' },
      ]);
    }
    for (const result of overflow) {
      const rows = attempts.get(result.requestId)!;
      expect(rows.map(({ attempt, model_id, outcome }) => ({ attempt, model_id, outcome }))).toEqual([
        { attempt: 1, model_id: WITH_FALLBACK, outcome: 'failed' },
        { attempt: 2, model_id: 'gpt-4o-mini', outcome: 'answered' },
      ]);
      expect(rows[0].error).toBe('rate-limited');
    }
    await expectLedgerMatchesLog(fault, before, results.map((result) => result.requestId));
    expect((await ledgerMicroUsd(fault.sluice.origin)).spent).toBeGreaterThan(before.spent); // the vendor's answers cost
    expect(local.load!()).toMatchObject({ active: 0, queued: 0 });
  }, LONG_MS);

  it.each([{ stream: false }, { stream: true }])(
    'with no vendor (stream: $stream): a clean 429 with retry-after at once, one failed row, nothing charged; the line still drains',
    async ({ stream }) => {
      const before = await ledgerMicroUsd(fault.sluice.origin);
      const slot = await holdTheSlot();
      let waiter: Promise<Timed> | undefined;
      try {
        waiter = timedChat(ALONE, 'in line: name a colour.', { max_tokens: 8 });
        await vi.waitFor(() => expect(local.load!().queued).toBe(1), { timeout: 10_000, interval: 10 });

        const refused = await timedChat(ALONE, 'one too many: name a colour.', { max_tokens: 8, stream });
        expect(refused.status).toBe(429);
        expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
        expect(refused.body).toEqual({
          error: { message: expect.stringMatching(/busy.*the most the line holds/), type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' },
        });
        expect(refused.wallMs).toBeLessThan(MAX_OVERFLOW_MS);
        expect(local.load!(), 'refused while the slot is still held: nobody waited for it').toMatchObject({ active: 1, queued: 1 });
        const rows = (await attemptsOf([refused.requestId])).get(refused.requestId)!;
        expect(rows.map(({ attempt, model_id, outcome }) => ({ attempt, model_id, outcome }))).toEqual([{ attempt: 1, model_id: ALONE, outcome: 'failed' }]);
        await expectLedgerMatchesLog(fault, before, [refused.requestId]);
      } finally {
        await slot.release();
      }
      // The one in line is served once the slot is free.
      const served = await waiter!;
      expect(served.status, JSON.stringify(served.body)).toBe(200);
      expect(served.body.choices[0].message.content.length).toBeGreaterThan(0);
      expect((await ledgerMicroUsd(fault.sluice.origin)).spent).toBe(before.spent); // the local model is free
      await expectStillServing(fault);
    },
    LONG_MS,
  );

  it('the SDK sees the refusal as a RateLimitError with the retry-after it can honour', async () => {
    const slot = await holdTheSlot();
    try {
      const waiter = fault.client.chat.completions.create({ model: ALONE, messages: [{ role: 'user', content: 'in line again' }], max_tokens: 8 });
      await vi.waitFor(() => expect(local.load!().queued).toBe(1), { timeout: 10_000, interval: 10 });
      const error = await fault.client.chat.completions.create({ model: ALONE, messages: [{ role: 'user', content: 'over' }] }).catch((caught) => caught);
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      expect(Number(error.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      await slot.release();
      expect((await waiter).choices[0].message.content?.length).toBeGreaterThan(0);
    } finally {
      await slot.release();
    }
  }, LONG_MS);
});
