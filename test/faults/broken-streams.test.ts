/**
 * Faults in what the vendor sends back: an SSE stream cut midway (OpenAI and Anthropic), a stream
 * with a frame that is not JSON (midway, or first), a JSON answer that stops halfway. Before the
 * first byte reached the client the next candidate answers; after it, one OpenAI error frame and no
 * `[DONE]`, the attempt charged for what was produced — and the ledger holds exactly what the log
 * says, with one row per attempt.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectLedgerMatchesLog,
  expectStillServing,
  faultModel,
  ledgerMicroUsd,
  rawChatStream,
  startFaultGateway,
  type FaultGateway,
} from '../support/fault-accounting.js';

/** Any stream in this file still open after this long is a hang. */
const HANG_MS = 10_000;


let fault: FaultGateway;

beforeAll(async () => {
  fault = await startFaultGateway((raw) => {
    raw.models.push(
      faultModel('openai-cut', 'fake-cut-after-first-chunk', 'openai', ['deepseek-chat']),
      faultModel('claude-cut', 'fake-cut-after-first-chunk', 'anthropic', ['deepseek-chat']),
      faultModel('malformed-midway', 'fake-malformed-sse', 'openai', ['deepseek-chat']),
      faultModel('malformed-first', 'fake-malformed-first-sse', 'openai', ['deepseek-chat']),
    );
  }, HANG_MS);
}, 60_000);
afterAll(() => fault?.close());

interface Row {
  attempt: number;
  model_id: string;
  outcome: string;
  error: string | null;
  cost: string | null;
  output: string | null;
}

async function rowsOf(requestId: string): Promise<Row[]> {
  await fault.store.inferenceLog.flush();
  const { rows } = await fault.store.database.query<Row>(
    'select attempt, model_id, outcome, error, cost::text as cost, output from model_inferences where request_id = $1 order by attempt',
    [requestId],
  );
  return rows;
}

describe('after the first chunk went out: an error frame, no [DONE], charged for what was produced', () => {
  it.each([
    { model: 'openai-cut', fault: 'OpenAI stream cut midway' },
    { model: 'claude-cut', fault: 'Anthropic stream cut midway' },
    { model: 'malformed-midway', fault: 'a frame that is not JSON, midway' },
  ])('$fault', async ({ model }) => {
    const before = await ledgerMicroUsd(fault.sluice.origin);
    const deepseekCalls = fault.sluice.deepseek.calls('/v1/chat/completions');
    const stream = await rawChatStream(fault.sluice.baseURL, model, HANG_MS);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('x-sluice-model')).toBe(model);
    expect(stream.frames).not.toContain('[DONE]');
    const chunks = stream.frames.map((frame) => JSON.parse(frame));
    const error = chunks.pop();
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toMatch(/^You/);
    expect(error.error).toEqual({ message: expect.any(String), type: 'upstream_error', param: null, code: 'upstream_unavailable' });
    expect(fault.sluice.deepseek.calls('/v1/chat/completions')).toBe(deepseekCalls); // no second model appended

    const requestId = stream.headers.get('x-sluice-request-id')!;
    const rows = await rowsOf(requestId);
    expect(rows.map((row) => [row.model_id, row.outcome, row.error])).toEqual([[model, 'failed', 'upstream-unavailable']]);
    expect(rows[0].output).toMatch(/^You/);
    expect(Number(rows[0].cost)).toBeGreaterThan(0); // the words produced were paid for
    await expectLedgerMatchesLog(fault, before, [requestId]);
    await expectStillServing(fault);
  });

  it('the SDK surfaces the malformed frame as an error, not as a short answer', async () => {
    const stream = await fault.client.chat.completions.create({ model: 'malformed-midway', messages: [{ role: 'user', content: 'one two three' }], stream: true });
    const received: string[] = [];
    const drained = (async () => {
      for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '');
    })();
    await expect(drained).rejects.toThrow(OpenAI.APIError);
    expect(received.join('')).toBe('You');
  });
});

describe('before the first chunk: the next candidate answers, unseen', () => {
  it('a stream whose first frame is not JSON falls back to the next vendor', async () => {
    const before = await ledgerMicroUsd(fault.sluice.origin);
    const stream = await rawChatStream(fault.sluice.baseURL, 'malformed-first', HANG_MS);
    expect(stream.headers.get('x-sluice-model')).toBe('deepseek-chat');
    expect(stream.frames.at(-1)).toBe('[DONE]');
    const text = stream.frames.slice(0, -1).map((frame) => JSON.parse(frame).choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('You said: one two three four five');
    const requestId = stream.headers.get('x-sluice-request-id')!;
    expect((await rowsOf(requestId)).map((row) => [row.model_id, row.outcome])).toEqual([
      ['malformed-first', 'failed'],
      ['deepseek-chat', 'answered'],
    ]);
    await expectLedgerMatchesLog(fault, before, [requestId]);
  });

  it.each(['malformed-first', 'malformed-midway'])('%s unstreamed: a JSON body that stops halfway falls back', async (model) => {
    const before = await ledgerMicroUsd(fault.sluice.origin);
    const { data, response } = await fault.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'half a body' }] }).withResponse();
    expect(response.headers.get('x-sluice-model')).toBe('deepseek-chat');
    expect(data.choices[0].message.content).toBe('You said: half a body');
    const requestId = response.headers.get('x-sluice-request-id')!;
    expect((await rowsOf(requestId)).map((row) => [row.outcome, Number(row.cost) > 0])).toEqual([
      ['failed', false],
      ['answered', true],
    ]);
    await expectLedgerMatchesLog(fault, before, [requestId]);
  });
});
