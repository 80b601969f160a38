// Properties over bad input: whatever JSON or bytes arrive, the gateway answers with a 4xx OpenAI error
// or a real answer — never a 5xx (the loopback fakes all work, so no upstream failure excuses one) —
// and keeps serving afterwards.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

const RUNS = 200;

let sluice: TestGateway;

beforeAll(async () => {
  sluice = await startTestGateway();
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
