/**
 * Faults of the connection to the vendor: it hangs up before sending any header, it sends no
 * answer within the backend's timeout, or it stops sending partway through an answer. What the
 * client sees is a fallback answer or a clean OpenAI error, and never later than the timeout plus
 * a margin; the ledger charges exactly what the log records, and the gateway keeps serving.
 */
import OpenAI from 'openai';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chatBurst,
  expectLedgerMatchesLog,
  expectStillServing,
  faultModel,
  failureCount,
  ledgerMicroUsd,
  rawChatStream,
  startFaultGateway,
  type FaultGateway,
} from '../support/fault-accounting.js';

/** The `openai-impatient` backend's timeout in the test harness. */
const TIMEOUT_MS = 300;
/** Beyond the timeout: the round trip and the fallback’s answer on a busy, shared 2-core machine. */
const MARGIN_MS = 3_000;
/** Any wait in this file longer than this is a hang. */
const HANG_MS = 10_000;


let fault: FaultGateway;

beforeAll(async () => {
  fault = await startFaultGateway((raw) => {
    raw.models.push(
      faultModel('hangup', 'fake-hangup', 'openai', ['deepseek-chat']),
      faultModel('only-hangup', 'fake-hangup', 'openai'),
      faultModel('silent', 'fake-slow', 'openai-impatient'),
      faultModel('stall', 'fake-stall-after-first-chunk', 'openai-impatient'),
      faultModel('stall-then-mini', 'fake-stall-after-first-chunk', 'openai-impatient', ['gpt-4o-mini']),
    );
  }, HANG_MS);
}, 60_000);
afterAll(() => fault?.close());

const ask = (model: string, content = 'are you there') => ({ model, messages: [{ role: 'user' as const, content }] });

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; wallMs: number }> {
  const startedMs = performance.now();
  const value = await run();
  return { value, wallMs: performance.now() - startedMs };
}

describe('the vendor hangs up before any header', () => {
  it('with a fallback, a burst of 100 is answered in full by the next vendor', async () => {
    const before = await ledgerMicroUsd(fault.sluice.origin);
    const outcome = await chatBurst(fault.client, 'hangup', 100, 8);
    console.log(`[faults] hang-up before headers: 100 requests, client saw ${failureCount(outcome)} failures, slowest ${Math.round(outcome.slowestMs)} ms`);
    expect(failureCount(outcome)).toBe(0);
    expect(outcome.fellBack).toBe(100);
    await expectLedgerMatchesLog(fault, before, outcome.requestIds);
    await expectStillServing(fault);
  }, 60_000);

  it('a stream falls back too: the client gets the whole answer from the next vendor', async () => {
    const stream = await rawChatStream(fault.sluice.baseURL, 'hangup', HANG_MS);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('x-sluice-model')).toBe('deepseek-chat');
    expect(stream.frames.at(-1)).toBe('[DONE]');
  });

  it('with no fallback, a clean 503 and nothing charged', async () => {
    const before = await ledgerMicroUsd(fault.sluice.origin);
    const error = await fault.client.chat.completions.create(ask('only-hangup')).catch((caught) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error.status).toBe(503);
    expect(error.error).toEqual({ message: expect.any(String), type: 'upstream_error', param: null, code: 'upstream_unavailable' });
    await expectLedgerMatchesLog(fault, before, [error.headers.get('x-sluice-request-id')]);
    expect((await ledgerMicroUsd(fault.sluice.origin)).spent).toBe(before.spent);
    await expectStillServing(fault);
  });
});

describe('the vendor sends nothing within the timeout', () => {
  it('a 504 timeout error at the timeout, and the vendor call is abandoned', async () => {
    const before = await ledgerMicroUsd(fault.sluice.origin);
    const { value: error, wallMs } = await timed(() => fault.client.chat.completions.create(ask('silent')).catch((caught) => caught));
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error.status).toBe(504);
    expect(error.error).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout' });
    expect(wallMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(wallMs).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    await expectLedgerMatchesLog(fault, before, [error.headers.get('x-sluice-request-id')]);
    expect(fault.sluice.openai.requests.at(-1)?.aborted).toBe(true);
  });
});

describe('the vendor stalls partway through an answer', () => {
  it('unstreamed, with a fallback: the next vendor answers within the timeout and a margin', async () => {
    const { value, wallMs } = await timed(() => fault.client.chat.completions.create(ask('stall-then-mini')).withResponse());
    expect(value.response.headers.get('x-sluice-model')).toBe('gpt-4o-mini');
    expect(value.data.choices[0].message.content).toBe('You said: are you there');
    expect(wallMs).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
  });

  it('streamed, after the first chunk went out: an error frame, no [DONE], within the timeout and a margin', async () => {
    const before = await ledgerMicroUsd(fault.sluice.origin);
    const stream = await rawChatStream(fault.sluice.baseURL, 'stall', HANG_MS);
    expect(stream.status).toBe(200);
    expect(stream.wallMs).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    expect(stream.frames).not.toContain('[DONE]');
    expect(JSON.parse(stream.frames[0]).choices[0].delta.content).toBe('You');
    expect(JSON.parse(stream.frames.at(-1)!).error).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout' });
    await expectLedgerMatchesLog(fault, before, [stream.headers.get('x-sluice-request-id')!]);
    await expectStillServing(fault);
  });
});
