import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openStore, type SluiceStore } from '../../src/store/open-store.js';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

// Every candidate tried is one row of model_inferences, read from the request's attempts after the
// request has really finished — written here to a real embedded PGlite and read back with SQL.

interface Row {
  attempt: number;
  model_id: string | null;
  route: string | null;
  outcome: string | null;
  error: string | null;
  output: string | null;
  cost: string | null;
  is_estimated: boolean;
  latency_ms: number | null;
  ttft_ms: number | null;
  escalated_from: string | null;
}

let sluice: TestGateway;
let store: SluiceStore;
let client: OpenAI;

beforeAll(async () => {
  store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'sluice-attempts-')), inferenceLog: { flushIntervalMs: 20 } });
  sluice = await startTestGateway(() => {}, { inferenceLog: store.inferenceLog, store });
  client = new OpenAI({ baseURL: sluice.baseURL, apiKey: sluice.apiKey, maxRetries: 0 });
});
afterAll(() => sluice.close()); // closes the store after the log has flushed

async function rowsOf(requestId: string, count: number): Promise<Row[]> {
  return vi.waitFor(
    async () => {
      await store.inferenceLog.flush();
      const { rows } = await store.database.query<Row>(
        `select attempt, model_id, route, outcome, error, output, cost::text as cost, is_estimated, latency_ms, ttft_ms, escalated_from
           from model_inferences where request_id = $1 order by attempt`,
        [requestId],
      );
      expect(rows).toHaveLength(count);
      return rows;
    },
    { timeout: 5_000, interval: 50 },
  );
}

const ask = (model: string, content = 'hello there') => ({ model, messages: [{ role: 'user' as const, content }] });

describe('one row per attempt', () => {
  it('two candidates that both fail leave two rows, each with its own model and error', async () => {
    const error = await client.chat.completions.create(ask('down-then-429')).catch((caught) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const rows = await rowsOf(error.headers.get('x-sluice-request-id'), 2);
    expect(rows.map((row) => [row.attempt, row.model_id, row.outcome, row.error])).toEqual([
      [1, 'down-then-429', 'failed', 'upstream-unavailable'],
      [2, 'only-429', 'failed', 'rate-limited'],
    ]);
    expect(rows[1].escalated_from).toBe('down-then-429');
  });

  it('each attempt carries its own latency, not the whole request’s', async () => {
    // `slow` times out after 300 ms on its impatient backend; gpt-4o-mini then answers at once.
    const { response } = await client.chat.completions.create(ask('slow')).withResponse();
    const rows = await rowsOf(response.headers.get('x-sluice-request-id')!, 2);
    expect(rows.map((row) => [row.model_id, row.outcome, row.error])).toEqual([
      ['slow', 'failed', 'timeout'],
      ['gpt-4o-mini', 'answered', null],
    ]);
    expect(rows[0].latency_ms).toBeGreaterThanOrEqual(290);
    expect(rows[1].latency_ms).toBeLessThan(rows[0].latency_ms! - 100);
    expect(rows[1].ttft_ms).not.toBeNull();
    expect(Number(rows[1].cost)).toBeGreaterThan(0);
    expect(Number(rows[0].cost)).toBe(0); // a failed attempt's hold was released
  });

  it('a request refused before any candidate ran still leaves one row with the error', async () => {
    const error = await client.chat.completions.create(ask('no-such-model')).catch((caught) => caught);
    expect(error.status).toBe(404);
    const rows = await rowsOf(error.headers.get('x-sluice-request-id'), 1);
    expect(rows[0]).toMatchObject({ model_id: null, error: 'not-found' });
  });
});

describe('passthrough', () => {
  it('a forwarded call is a row too, with what it was charged', async () => {
    const response = await fetch(`${sluice.baseURL}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${sluice.apiKey}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', prompt: 'say something', max_tokens: 5 }),
    });
    expect(response.status).toBe(200);
    const [row] = await rowsOf(response.headers.get('x-sluice-request-id')!, 1);
    expect(row).toMatchObject({ model_id: 'gpt-4o-mini', route: 'openai', outcome: 'answered', error: null, is_estimated: false });
    expect(Number(row.cost)).toBeGreaterThan(0);
  });
});

describe('a stream the client abandons', () => {
  it('is logged after the relay settled it: the row has the text produced and its cost', async () => {
    const words = Array.from({ length: 60 }, (_, index) => `word${index}`).join(' ');
    const abort = new AbortController();
    const response = await fetch(`${sluice.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${sluice.apiKey}` },
      body: JSON.stringify({ ...ask('trickle', words), stream: true }),
      signal: abort.signal,
    });
    const requestId = response.headers.get('x-sluice-request-id')!;
    const reader = response.body!.getReader();
    let received = '';
    while ((received.match(/"content":"[^"]+"/g) ?? []).length < 2) {
      const { value } = await reader.read();
      received += new TextDecoder().decode(value);
    }
    abort.abort();

    const [row] = await rowsOf(requestId, 1);
    expect(row.model_id).toBe('trickle');
    expect(row.outcome).toBe('abandoned');
    expect(row.error).toBe('client-closed');
    // What was produced before the client left: the start of the echo, far from all of it.
    expect(row.output).toMatch(/^You said:/);
    expect(row.output!.length).toBeLessThan(`You said: ${words}`.length / 2);
    // Charged for what was produced, from a local count (the usage chunk never came).
    expect(Number(row.cost)).toBeGreaterThan(0);
    expect(row.is_estimated).toBe(true);
    // The vendor stopped generating when the client left.
    await vi.waitFor(() => expect(sluice.openai.requests.at(-1)?.aborted).toBe(true));
  });

  it('a stream read to its end is one answered row with the usage the vendor reported', async () => {
    const stream = await client.chat.completions.create({ ...ask('trickle', 'short one'), stream: true, stream_options: { include_usage: true } }).withResponse();
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream.data) usage = chunk.usage ?? usage;
    const [row] = await rowsOf(stream.response.headers.get('x-sluice-request-id')!, 1);
    expect(row).toMatchObject({ model_id: 'trickle', outcome: 'answered', error: null, output: 'You said: short one', is_estimated: false });
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(row.ttft_ms!).toBeLessThan(row.latency_ms!);
  });
});
