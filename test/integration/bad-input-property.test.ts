// Properties over bad input: whatever JSON or bytes arrive, the gateway answers with a 4xx OpenAI error
// or a real answer — never a 5xx (the loopback fakes all work, so no upstream failure excuses one) —
// and keeps serving afterwards.
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';
import { rawExchange } from '../support/raw-http.js';

const RUNS = 200;

let sluice: TestGateway;

beforeAll(async () => {
  // The test key doubles as the master key, so the admin API's paths are in reach too.
  sluice = await startTestGateway((raw) => {
    raw.auth = { master_key: 'sk-test-anything' };
  });
});
afterAll(() => sluice?.close());

type Endpoint = '/chat/completions' | '/embeddings' | '/audio/transcriptions';

interface Answer {
  status: number;
  contentType: string;
  requestId: string | null;
  text: string;
}

async function post(endpoint: Endpoint, body: string | Uint8Array, contentType = 'application/json'): Promise<Answer> {
  const response = await fetch(`${sluice.baseURL}${endpoint}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sluice.apiKey}`, 'content-type': contentType },
    // A copy on a plain ArrayBuffer: what fetch's BodyInit type accepts.
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    requestId: response.headers.get('x-sluice-request-id'),
    text: await response.text(),
  };
}

function isOpenAIError(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const error = (body as { error: Record<string, unknown> }).error;
  return (
    typeof error.message === 'string' &&
    error.message.length > 0 &&
    typeof error.type === 'string' &&
    (error.param === null || typeof error.param === 'string') &&
    (error.code === null || typeof error.code === 'string')
  );
}

const isChatCompletion = (body: any) => body?.object === 'chat.completion' && Array.isArray(body.choices) && body.choices.length > 0;
const isEmbeddingList = (body: any) => body?.object === 'list' && Array.isArray(body.data) && body.data.every((item: any) => item?.object === 'embedding');

/** Under 500, with a request id, and a body that is the endpoint's answer or an OpenAI error. */
function expectWellFormed(answer: Answer, isSuccess: (body: unknown) => boolean): void {
  expect(answer.status, answer.text).toBeLessThan(500);
  expect(answer.requestId).toMatch(/^req_[0-9a-f]{32}$/);
  if (answer.status === 200 && answer.contentType.startsWith('text/event-stream')) {
    // A generated `stream: true` on an otherwise valid request: an SSE answer is the right one.
    expect(answer.text).toMatch(/^data: /);
    return;
  }
  expect(answer.contentType).toMatch(/^application\/json/);
  const body: unknown = JSON.parse(answer.text);
  if (answer.status === 200) expect(isSuccess(body), answer.text).toBe(true);
  else expect(isOpenAIError(body), answer.text).toBe(true);
}

// A field is either something plausible or any JSON at all.
const orJunk = <T>(plausible: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: plausible }, { weight: 1, arbitrary: fc.jsonValue() });
/**
 * An optional field: mostly absent, else mostly plausible. With every key present and often junk,
 * no generated request would ever be valid, and the success side of the property would go unexercised.
 */
const sometimes = <T>(plausible: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 3, arbitrary: plausible }, { weight: 1, arbitrary: fc.jsonValue() });
const shortText = fc.string({ maxLength: 40 });

const chatMessage = fc.oneof(
  { weight: 4, arbitrary: fc.record({ role: fc.constantFrom('system', 'developer', 'user', 'assistant'), content: shortText }) },
  { weight: 2, arbitrary: fc.record({ role: fc.constant('user'), content: fc.array(fc.record({ type: fc.constant('text'), text: shortText }), { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ role: orJunk(fc.constantFrom('user', 'tool', 'assistant')), content: fc.jsonValue(), tool_call_id: fc.jsonValue() }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.object() },
);

const tool = fc.record({ type: orJunk(fc.constant('function')), function: orJunk(fc.record({ name: fc.stringMatching(/^[a-z_]{1,12}$/), parameters: fc.object() })) }, { requiredKeys: ['type'] });

const chatFields = fc.record(
  {
    model: orJunk(fc.constantFrom('gpt-4o', 'deepseek-chat', 'claude-3-5-sonnet-latest', 'auto', 'text-embedding-3-small', 'no-such-model')),
    messages: orJunk(fc.array(chatMessage, { minLength: 1, maxLength: 4 })),
    temperature: sometimes(fc.double({ min: -1, max: 3, noNaN: true })),
    top_p: sometimes(fc.double({ min: 0, max: 1.5, noNaN: true })),
    n: sometimes(fc.integer({ min: -1, max: 3 })),
    max_tokens: sometimes(fc.integer({ min: -5, max: 64 })),
    max_completion_tokens: sometimes(fc.integer({ min: -5, max: 64 })),
    stop: sometimes(fc.array(shortText, { maxLength: 6 })),
    stream: sometimes(fc.boolean()),
    stream_options: sometimes(fc.record({ include_usage: fc.boolean() })),
    tools: sometimes(fc.array(tool, { maxLength: 3 })),
    tool_choice: sometimes(fc.constantFrom('none', 'auto', 'required')),
    response_format: sometimes(fc.record({ type: fc.constantFrom('text', 'json_object', 'json_schema', 'yaml') })),
    logit_bias: sometimes(fc.dictionary(fc.stringMatching(/^[0-9]{1,5}$/), fc.integer({ min: -150, max: 150 }))),
    logprobs: sometimes(fc.boolean()),
    top_logprobs: sometimes(fc.integer({ min: -1, max: 25 })),
    user: sometimes(shortText),
  },
  { requiredKeys: ['model', 'messages'] },
);

const embeddingFields = fc.record(
  {
    model: orJunk(fc.constantFrom('text-embedding-3-small', 'gpt-4o', 'whisper-1', 'no-such-model')),
    input: orJunk(
      fc.oneof(
        shortText,
        fc.array(shortText, { maxLength: 4 }),
        fc.array(fc.integer({ min: -2, max: 100_000 }), { maxLength: 6 }),
        fc.array(fc.array(fc.integer({ min: 0, max: 100_000 }), { maxLength: 4 }), { maxLength: 3 }),
      ),
    ),
    encoding_format: sometimes(fc.constantFrom('float', 'base64', 'hex')),
    dimensions: sometimes(fc.integer({ min: -1, max: 4000 })),
    user: sometimes(shortText),
  },
  { requiredKeys: ['model', 'input'] },
);

/** Random extra keys under the plausible ones: mostly "Unrecognized request argument" territory. */
const withExtras = (fields: fc.Arbitrary<Record<string, unknown>>) =>
  fc.tuple(fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.object({ maxDepth: 2 }) }), fields).map(([extras, known]) => ({ ...extras, ...known }));

describe('bad input, generated', () => {
  it('any JSON value to /chat/completions gets a 4xx OpenAI error or a completion', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => expectWellFormed(await post('/chat/completions', JSON.stringify(value)), isChatCompletion)),
      { numRuns: RUNS },
    );
  });

  it('any JSON value to /embeddings gets a 4xx OpenAI error or an embedding list', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => expectWellFormed(await post('/embeddings', JSON.stringify(value)), isEmbeddingList)),
      { numRuns: RUNS },
    );
  });

  it('chat-shaped records with fields of the wrong type never give a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(withExtras(chatFields), async (body) => expectWellFormed(await post('/chat/completions', JSON.stringify(body)), isChatCompletion)),
      { numRuns: RUNS },
    );
  });

  it('embedding-shaped records with fields of the wrong type never give a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(withExtras(embeddingFields), async (body) => expectWellFormed(await post('/embeddings', JSON.stringify(body)), isEmbeddingList)),
      { numRuns: RUNS },
    );
  });

  it('random bytes as a body never crash the gateway', async () => {
    const endpoint = fc.constantFrom<Endpoint>('/chat/completions', '/embeddings', '/audio/transcriptions');
    const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'multipart/form-data; boundary=xyz', 'multipart/form-data', 'text/plain', 'application/octet-stream');
    await fc.assert(
      fc.asyncProperty(endpoint, contentType, fc.uint8Array({ maxLength: 2048 }), async (target, type, bytes) => {
        const answer = await post(target, bytes, type);
        expect(answer.status, answer.text).toBeGreaterThanOrEqual(400);
        expect(answer.status, answer.text).toBeLessThan(500);
        expect(answer.requestId).toMatch(/^req_[0-9a-f]{32}$/);
        expect(isOpenAIError(JSON.parse(answer.text)), answer.text).toBe(true);
      }),
      { numRuns: RUNS },
    );
    const health = await fetch(`${sluice.origin}/health`);
    expect(health.status).toBe(200);
  });
});

const vendorCalls = () => sluice.openai.requests.length + sluice.deepseek.requests.length + sluice.anthropic.requests.length;

/** `levels` containers nested in each other, each an object or an array as `kinds` says. */
function nested(kinds: readonly boolean[]): string {
  const open = kinds.slice(0, -1).map((isObject) => (isObject ? '{"p":' : '['));
  const close = kinds.slice(0, -1).map((isObject) => (isObject ? '}' : ']')).reverse();
  return `${open.join('')}${kinds.at(-1) ? '{}' : '[]'}${close.join('')}`;
}

const hello = '[{"role":"user","content":"hello"}]';

/** Where a nested value goes, and how deep it already is there: the body itself is level 1. */
const places = [
  { endpoint: '/chat/completions', levelsAbove: 4, body: (model: string, value: string) => `{"model":"${model}","messages":${hello},"tools":[{"type":"function","function":{"name":"f","parameters":${value}}}]}` },
  { endpoint: '/chat/completions', levelsAbove: 3, body: (model: string, value: string) => `{"model":"${model}","messages":${hello},"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":${value}}}}` },
  { endpoint: '/chat/completions', levelsAbove: 3, body: (model: string, value: string) => `{"model":"${model}","messages":[{"role":"user","content":${value}}]}` },
  { endpoint: '/chat/completions', levelsAbove: 1, body: (model: string, value: string) => `{"model":"${model}","messages":${hello},"metadata":${value}}` },
  { endpoint: '/embeddings', levelsAbove: 1, body: (_model: string, value: string) => `{"model":"text-embedding-3-small","input":${value}}` },
] as const;

describe('hostile input, generated', () => {
  it('JSON nested around the depth limit is refused past it (no vendor called) and never gives a 5xx', async () => {
    const limit = sluice.config.server.json_max_depth;
    const depth = fc.integer({ min: limit - 6, max: limit + 6 });
    const model = fc.constantFrom('gpt-4o', 'claude-3-5-sonnet-latest', 'flaky-503', 'auto');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...places), depth, model, fc.infiniteStream(fc.boolean()), async (place, total, name, coins) => {
        const levels = total - place.levelsAbove;
        const kinds = [...coins.take(levels)];
        const before = vendorCalls();
        const answer = await post(place.endpoint, place.body(name, nested(kinds)));
        expect(answer.status, answer.text).toBeLessThan(500);
        const body = JSON.parse(answer.text);
        if (total > limit) {
          expect(answer.status).toBe(400);
          expect(body.error.code).toBe('json_too_deep');
          expect(vendorCalls()).toBe(before);
        } else {
          expect(body.error?.code).not.toBe('json_too_deep');
        }
      }),
      { numRuns: 100 },
    );
  });

  it('random bytes and percent-encodings in paths never give a 5xx', async () => {
    const port = Number(new URL(sluice.origin).port);
    const hex = fc.constantFrom(...'0123456789abcdefABCDEFxz%');
    const piece = fc.oneof(
      fc.tuple(hex, hex).map(([high, low]) => `%${high}${low}`),
      fc.constant('%'),
      fc.integer({ min: 0x21, max: 0xff }).map((code) => String.fromCharCode(code)),
      fc.stringMatching(/^[a-z0-9._-]{1,6}$/),
    );
    const segment = fc.oneof({ weight: 4, arbitrary: fc.array(piece, { maxLength: 10 }).map((pieces) => pieces.join('')) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from(bytes).toString('latin1')) });
    const target = fc.constantFrom(['GET', '/v1/models/'], ['DELETE', '/admin/keys/'], ['GET', '/v1/files/'], ['POST', '/v1/chat/completions/'], ['GET', '/']);
    await fc.assert(
      fc.asyncProperty(target, segment, async ([method, prefix], tail) => {
        const request = Buffer.from(`${method} ${prefix}${tail} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${sluice.apiKey}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, 'latin1');
        const answer = await rawExchange(port, request);
        expect(answer.status, answer.body).toBeLessThan(500);
        if (answer.status >= 400) {
          expect(answer.headers['content-type']).toMatch(/^application\/json/);
          expect(isOpenAIError(JSON.parse(answer.body)), answer.body).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
    const health = await fetch(`${sluice.origin}/health`);
    expect(health.status).toBe(200);
  });

  it('any Content-Encoding on any body never gives a 5xx', async () => {
    const chat = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] });
    const encoding = fc.oneof(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'GZIP', 'x-gzip', 'compress', 'zstd', 'gzip, deflate'), fc.stringMatching(/^[a-z-]{1,10}$/));
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
      fc.constantFrom(gzipSync(chat), deflateSync(chat), brotliCompressSync(chat), Buffer.from(chat)),
      fc.tuple(fc.constantFrom(gzipSync(chat), deflateSync(chat), brotliCompressSync(chat)), fc.nat()).map(([whole, cut]) => whole.subarray(0, cut % whole.length)),
    );
    await fc.assert(
      fc.asyncProperty(encoding, body, async (name, bytes) => {
        const response = await fetch(`${sluice.baseURL}/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${sluice.apiKey}`, 'content-type': 'application/json', 'content-encoding': name },
          body: new Uint8Array(bytes),
        });
        const text = await response.text();
        expect(response.status, text).toBeLessThan(500);
        if (response.status >= 400) expect(isOpenAIError(JSON.parse(text)), text).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
