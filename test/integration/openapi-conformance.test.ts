// Sluice's answers, validated against OpenAI's published OpenAPI schemas (a vendored subset:
// test/fixtures/openai-openapi/README.md says which commit and which schemas). Every backend
// kind is covered: OpenAI itself, an OpenAI-compatible vendor (DeepSeek), Anthropic, whose
// answers Sluice translates, and the local GGUF model (llama-cpp).
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

type Json = Record<string, any>;
type SchemaName =
  | 'CreateChatCompletionResponse'
  | 'CreateChatCompletionStreamResponse'
  | 'CreateEmbeddingResponse'
  | 'CreateTranscriptionResponseJson'
  | 'CreateTranscriptionResponseVerboseJson'
  | 'ListModelsResponse'
  | 'Model'
  | 'ErrorResponse';

const spec = JSON.parse(readFileSync(new URL('../fixtures/openai-openapi/openai-subset.json', import.meta.url), 'utf8')) as Json;

/**
 * OpenAPI 3.0 → JSON Schema, for what the subset uses: `nullable: true` becomes a type union,
 * and null joins any `enum` (ajv's own `nullable` support leaves enums alone, so a null
 * `finish_reason` would fail; OpenAI means null to be allowed). `nullable` without `type`
 * (beside `$ref`/`oneOf`) becomes `anyOf [schema, null]`.
 */
function openApiToJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(openApiToJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const { nullable, ...rest } = node as Json;
  const converted: Json = {};
  for (const [key, value] of Object.entries(rest)) {
    // `enum` and `required` hold data, not schemas; x-* keys are OpenAI's own annotations.
    converted[key] = key === 'enum' || key === 'required' || key.startsWith('x-') ? value : openApiToJsonSchema(value);
  }
  if (nullable !== true) return converted;
  if (converted.enum && !converted.enum.includes(null)) converted.enum = [...converted.enum, null];
  if (typeof converted.type === 'string') return { ...converted, type: [converted.type, 'null'] };
  return { anyOf: [converted, { type: 'null' }] };
}

/**
 * Where OpenAI's own schema at the vendored commit contradicts what its API sends (and its own
 * descriptions), the test applies these overlays instead of editing the vendored file.
 */
function withErrata(schemas: Json, errata: { base64Embeddings?: boolean } = {}): Json {
  const patched = structuredClone(schemas);
  // The schema's description: "When present, it contains a null value except for the last chunk"
  // — OpenAI sends `"usage": null` on every other chunk when include_usage is set, yet the
  // schema types `usage` as a non-nullable object.
  patched.CreateChatCompletionStreamResponse.properties.usage.nullable = true;
  // `encoding_format: "base64"` (CreateEmbeddingRequest) makes `embedding` a base64 string of
  // little-endian float32s; the schema only knows the float array.
  if (errata.base64Embeddings) {
    patched.Embedding.properties.embedding = { type: 'string', description: 'base64 of little-endian float32 values' };
  }
  return patched;
}

function buildValidators(errata: { base64Embeddings?: boolean } = {}) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  // OpenAPI's numeric formats are informational for JSON numbers.
  for (const format of ['float', 'double', 'int32', 'int64']) ajv.addFormat(format, true);
  const document = { ...spec, components: { ...spec.components, schemas: openApiToJsonSchema(withErrata(spec.components.schemas, errata)) } };
  ajv.addSchema(document, 'openai');
  const cache = new Map<string, ValidateFunction>();
  return (name: SchemaName): ValidateFunction => {
    let validate = cache.get(name);
    if (!validate) {
      validate = ajv.getSchema(`openai#/components/schemas/${name}`);
      if (!validate) throw new Error(`schema ${name} is not in the vendored subset`);
      cache.set(name, validate);
    }
    return validate;
  };
}

const validatorFor = buildValidators();
const base64ValidatorFor = buildValidators({ base64Embeddings: true });

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((error) => `  ${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)} (schema ${error.schemaPath})`)
    .join('\n');
}

/** Fails with ajv's error list and the offending body, so a failure says what is wrong where. */
function expectConforms(name: SchemaName, body: unknown, label: string = name, validators = validatorFor): void {
  const validate = validators(name);
  if (validate(body)) return;
  const shown = JSON.stringify(body, null, 2);
  throw new Error(
    `${label}: not a valid ${name}:\n${describeErrors(validate.errors)}\nbody: ${shown.length > 4000 ? `${shown.slice(0, 4000)}…` : shown}`,
  );
}

let sluice: TestGateway;

beforeAll(async () => {
  sluice = await startTestGateway();
});
afterAll(() => sluice?.close());

const authorization = () => ({ authorization: `Bearer ${sluice.apiKey}` });

async function postJson(path: string, body: unknown, target: TestGateway = sluice): Promise<{ status: number; headers: Headers; json: Json }> {
  const response = await fetch(`${target.baseURL}${path}`, {
    method: 'POST',
    headers: { ...authorization(), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch {
    throw new Error(`POST ${path} → ${response.status}, not JSON: ${text.slice(0, 500)}`);
  }
  return { status: response.status, headers: response.headers, json };
}

async function chat(body: Json, target: TestGateway = sluice): Promise<Json> {
  const { status, json } = await postJson('/chat/completions', body, target);
  if (status !== 200) throw new Error(`chat ${body.model} → ${status}: ${JSON.stringify(json)}`);
  return json;
}

interface StreamResult {
  /** Every `data:` payload before `[DONE]`, parsed. */
  frames: Json[];
  sawDone: boolean;
}

async function chatStream(body: Json, target: TestGateway = sluice): Promise<StreamResult> {
  const response = await fetch(`${target.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { ...authorization(), 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true }),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`stream ${body.model} → ${response.status}: ${text.slice(0, 500)}`);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const frames: Json[] = [];
  let sawDone = false;
  for (const event of text.split(/\r?\n\r?\n/)) {
    const data = event
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''))
      .join('\n');
    if (data === '') continue;
    if (sawDone) throw new Error(`data after [DONE]: ${data}`);
    if (data === '[DONE]') {
      sawDone = true;
      continue;
    }
    frames.push(JSON.parse(data) as Json);
  }
  return { frames, sawDone };
}

function expectChunksConform(model: string, { frames, sawDone }: StreamResult): Json[] {
  expect(sawDone, `${model}: the stream ends with data: [DONE]`).toBe(true);
  expect(frames.length).toBeGreaterThan(0);
  frames.forEach((chunk, index) => expectConforms('CreateChatCompletionStreamResponse', chunk, `${model} chunk ${index}`));
  return frames;
}

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } }, required: ['city'] },
  },
};

const answerSchema = {
  type: 'json_schema',
  json_schema: {
    name: 'city_answer',
    strict: true,
    schema: {
      type: 'object',
      properties: { city: { type: 'string' }, population: { type: 'integer' } },
      required: ['city', 'population'],
      additionalProperties: false,
    },
  },
};

describe('the vendored schema subset', () => {
  it('holds every schema the suite validates against, and every $ref resolves', () => {
    const names: SchemaName[] = [
      'CreateChatCompletionResponse',
      'CreateChatCompletionStreamResponse',
      'CreateEmbeddingResponse',
      'CreateTranscriptionResponseJson',
      'CreateTranscriptionResponseVerboseJson',
      'ListModelsResponse',
      'Model',
      'ErrorResponse',
    ];
    for (const name of names) expect(typeof validatorFor(name)).toBe('function');
  });

  it('rejects what OpenAI would not send (the validators are not vacuous)', () => {
    const validate = validatorFor('CreateChatCompletionResponse');
    const good = {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4o',
      choices: [{ index: 0, message: { role: 'assistant', content: 'hi', refusal: null }, logprobs: null, finish_reason: 'stop' }],
    };
    expect(validate(good), describeErrors(validate.errors)).toBe(true);
    expect(validate({ ...good, object: 'chat.completion.chunk' })).toBe(false);
    expect(validate({ ...good, choices: [{ ...good.choices[0], finish_reason: 'end_turn' }] })).toBe(false);
    expect(validate({ ...good, choices: [{ ...good.choices[0], message: { role: 'assistant', content: 'hi' } }] })).toBe(false); // refusal is required
    expect(validate({ ...good, choices: [{ ...good.choices[0], finish_reason: null }] })).toBe(false);
    const chunk = validatorFor('CreateChatCompletionStreamResponse');
    const goodChunk = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'x' }, finish_reason: null }] };
    expect(chunk(goodChunk), describeErrors(chunk.errors)).toBe(true); // nullable enum admits null
    expect(chunk({ ...goodChunk, choices: [{ index: 0, delta: { tool_calls: [{ id: 'call_1' }] }, finish_reason: null }] })).toBe(false); // index required
    const error = validatorFor('ErrorResponse');
    expect(error({ error: { message: 'm', type: 't', param: null, code: null } })).toBe(true);
    expect(error({ error: { message: 'm', type: 't' } })).toBe(false); // param and code are required, even when null
  });
});

describe.each(['gpt-4o', 'deepseek-chat', 'claude-3-5-sonnet-latest'])('chat completion JSON from %s', (model) => {
  it('plain answer', async () => {
    const completion = await chat({ model, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hello there' }] });
    expectConforms('CreateChatCompletionResponse', completion, `${model} plain`);
    expect(completion.choices[0].message.content).toContain('hello there');
    expect(completion.usage).toBeDefined();
  });

  it('tool calls', async () => {
    const completion = await chat({ model, messages: [{ role: 'user', content: 'Use get_weather for Paris' }], tools: [weatherTool] });
    expectConforms('CreateChatCompletionResponse', completion, `${model} tools`);
    const [choice] = completion.choices;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.tool_calls).toHaveLength(1);
    expect(choice.message.tool_calls[0].function.name).toBe('get_weather');
    expect(JSON.parse(choice.message.tool_calls[0].function.arguments)).toEqual(expect.any(Object));
  });

  it('json_schema response_format', async () => {
    const completion = await chat({ model, messages: [{ role: 'user', content: 'Biggest city in France?' }], response_format: answerSchema });
    expectConforms('CreateChatCompletionResponse', completion, `${model} json_schema`);
    const answer = JSON.parse(completion.choices[0].message.content as string);
    expect(answer).toEqual({ city: expect.any(String), population: expect.any(Number) });
  });

  it('n=2', async () => {
    const completion = await chat({ model, messages: [{ role: 'user', content: 'say two things' }], n: 2 });
    expectConforms('CreateChatCompletionResponse', completion, `${model} n=2`);
    expect(completion.choices.map((choice: Json) => choice.index)).toEqual([0, 1]);
  });
});

describe.each(['gpt-4o', 'deepseek-chat', 'claude-3-5-sonnet-latest'])('streamed chunks from %s', (model) => {
  it('text with include_usage: every chunk, and the final usage chunk', async () => {
    const chunks = expectChunksConform(
      model,
      await chatStream({ model, messages: [{ role: 'user', content: 'hello there friend' }], stream_options: { include_usage: true } }),
    );
    const text = chunks.flatMap((chunk) => chunk.choices.map((choice: Json) => choice.delta.content ?? '')).join('');
    expect(text).toContain('hello there friend');
    expect(chunks.some((chunk) => chunk.choices[0]?.finish_reason === 'stop')).toBe(true);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual(expect.objectContaining({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), total_tokens: expect.any(Number) }));
    // The schema's own words: "it contains a null value except for the last chunk".
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
    expect(new Set(chunks.map((chunk) => chunk.id)).size, 'every chunk has the same id').toBe(1);
  });

  it('text without include_usage', async () => {
    const chunks = expectChunksConform(model, await chatStream({ model, messages: [{ role: 'user', content: 'hello again' }] }));
    expect(chunks.every((chunk) => chunk.choices.length > 0)).toBe(true);
    // "An optional field that will only be present when you set stream_options: {include_usage: true}".
    expect(chunks.filter((chunk) => 'usage' in chunk)).toEqual([]);
  });

  it('tool-call deltas', async () => {
    const chunks = expectChunksConform(
      model,
      await chatStream({ model, messages: [{ role: 'user', content: 'Use get_weather for Oslo' }], tools: [weatherTool], stream_options: { include_usage: true } }),
    );
    const toolDeltas = chunks.flatMap((chunk) => chunk.choices.flatMap((choice: Json) => choice.delta.tool_calls ?? []));
    expect(toolDeltas.length).toBeGreaterThan(0);
    expect(toolDeltas[0]).toEqual(expect.objectContaining({ index: 0, id: expect.any(String), type: 'function', function: expect.objectContaining({ name: 'get_weather' }) }));
    const argumentsJson = toolDeltas.map((delta: Json) => delta.function?.arguments ?? '').join('');
    expect(JSON.parse(argumentsJson)).toEqual(expect.any(Object));
    expect(chunks.some((chunk) => chunk.choices[0]?.finish_reason === 'tool_calls')).toBe(true);
  });
});

describe('local model answers (llama-cpp, SmolLM2)', () => {
  const model = 'smollm2-135m-instruct';
  const question = { model, messages: [{ role: 'user', content: 'What is the capital of France?' }], temperature: 0, max_tokens: 8 };
  let local: TestGateway;

  beforeAll(async () => {
    local = await startTestGateway((raw) => {
      raw.paths.models_dir = process.env.SLUICE_MODELS_DIR ?? 'models';
      raw.backends.local = { type: 'llama-cpp', requires_key: false, options: { model: 'chat/smollm2-135m-instruct-q4_1.gguf', parallel: 1 } };
      raw.models.push({ id: model, backend: 'local', capabilities: ['chat', 'stream', 'json'] });
    });
    await local.gateway.ready;
  }, 180_000);
  afterAll(() => local?.close());

  // No erratum here: the schema types system_fingerprint as a string, so a null one fails.
  it('JSON and every streamed chunk conform, carrying the same system_fingerprint string', async () => {
    const completion = await chat(question, local);
    expectConforms('CreateChatCompletionResponse', completion, `${model} plain`);
    expect(completion.system_fingerprint).toEqual(expect.stringMatching(/^fp_\w+$/));
    const chunks = expectChunksConform(model, await chatStream({ ...question, stream_options: { include_usage: true } }, local));
    expect(chunks.map((chunk) => chunk.system_fingerprint)).toEqual(chunks.map(() => completion.system_fingerprint));
  }, 60_000);
});

describe('a stream that fails after it began', () => {
  it('sends conforming chunks, then one ErrorResponse frame and no [DONE]', async () => {
    const { frames, sawDone } = await chatStream({ model: 'stream-error', messages: [{ role: 'user', content: 'hello there' }] });
    expect(sawDone).toBe(false);
    const errorFrame = frames.at(-1)!;
    expectConforms('ErrorResponse', errorFrame, 'stream-error last frame');
    frames.slice(0, -1).forEach((chunk, index) => expectConforms('CreateChatCompletionStreamResponse', chunk, `stream-error chunk ${index}`));
  });
});

describe('embeddings', () => {
  it('float', async () => {
    const { status, json } = await postJson('/embeddings', { model: 'text-embedding-3-small', input: ['one fish', 'two fish'] });
    expect(status).toBe(200);
    expectConforms('CreateEmbeddingResponse', json, 'embeddings float');
    expect(json.data).toHaveLength(2);
    expect(json.data[0].embedding.length).toBeGreaterThan(0);
  });

  it('base64 (against the schema with the base64 erratum)', async () => {
    const { status, json } = await postJson('/embeddings', { model: 'text-embedding-3-small', input: 'one fish', encoding_format: 'base64', dimensions: 8 });
    expect(status).toBe(200);
    expectConforms('CreateEmbeddingResponse', json, 'embeddings base64', base64ValidatorFor);
    const bytes = Buffer.from(json.data[0].embedding as string, 'base64');
    expect(bytes.length).toBe(8 * 4);
    // The float form of the same request, decoded from the bytes, matches.
    const float = await postJson('/embeddings', { model: 'text-embedding-3-small', input: 'one fish', dimensions: 8 });
    expectConforms('CreateEmbeddingResponse', float.json, 'embeddings float dims=8');
    const decoded = Array.from({ length: 8 }, (_, index) => bytes.readFloatLE(index * 4));
    decoded.forEach((value, index) => expect(value).toBeCloseTo(float.json.data[0].embedding[index], 6));
  });
});

describe('transcriptions', () => {
  async function transcribe(fields: Record<string, string | string[]>): Promise<{ status: number; json: Json }> {
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('Hello from Sluice. This is the second sentence!', 'utf8')], { type: 'audio/wav' }), 'a.wav');
    for (const [name, value] of Object.entries(fields)) for (const item of [value].flat()) form.append(name, item);
    const response = await fetch(`${sluice.baseURL}/audio/transcriptions`, { method: 'POST', headers: authorization(), body: form });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`transcription → ${response.status}: ${text.slice(0, 500)}`);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    return { status: response.status, json: JSON.parse(text) as Json };
  }

  it('json', async () => {
    const { json } = await transcribe({ model: 'whisper-1' });
    expectConforms('CreateTranscriptionResponseJson', json, 'transcription json');
    expect(json.text).toBe('Hello from Sluice. This is the second sentence!');
  });

  it('verbose_json with segment and word timestamps', async () => {
    const { json } = await transcribe({ model: 'whisper-1', response_format: 'verbose_json', 'timestamp_granularities[]': ['word', 'segment'] });
    expectConforms('CreateTranscriptionResponseVerboseJson', json, 'transcription verbose_json');
    expect(json.segments.length).toBe(2);
    expect(json.words?.length ?? 0).toBeGreaterThan(0);
  });

  it('verbose_json without granularities', async () => {
    const { json } = await transcribe({ model: 'whisper-1', response_format: 'verbose_json', language: 'en' });
    expectConforms('CreateTranscriptionResponseVerboseJson', json, 'transcription verbose_json (segments only)');
    expect(json.language).toBe('english');
  });
});

describe('models', () => {
  it('GET /v1/models is a ListModelsResponse', async () => {
    const response = await fetch(`${sluice.baseURL}/models`, { headers: authorization() });
    expect(response.status).toBe(200);
    const json = (await response.json()) as Json;
    expectConforms('ListModelsResponse', json, 'GET /v1/models');
    expect(json.data.map((model: Json) => model.id)).toEqual(expect.arrayContaining(['gpt-4o', 'deepseek-chat', 'claude-3-5-sonnet-latest', 'whisper-1']));
  });

  it('GET /v1/models/{id} is a Model', async () => {
    const response = await fetch(`${sluice.baseURL}/models/gpt-4o`, { headers: authorization() });
    expect(response.status).toBe(200);
    expectConforms('Model', await response.json(), 'GET /v1/models/gpt-4o');
  });
});

describe('error bodies are ErrorResponse', () => {
  it('unknown model on chat: 404', async () => {
    const { status, json } = await postJson('/chat/completions', { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] });
    expect(status).toBe(404);
    expectConforms('ErrorResponse', json, 'unknown model');
    expect(json.error.code).toBe('model_not_found');
  });

  it('unknown model on GET /v1/models/{id}: 404', async () => {
    const response = await fetch(`${sluice.baseURL}/models/no-such-model`, { headers: authorization() });
    expect(response.status).toBe(404);
    expectConforms('ErrorResponse', await response.json(), 'GET unknown model');
  });

  it('bad parameter: 400', async () => {
    const { status, json } = await postJson('/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], temperature: 7 });
    expect(status).toBe(400);
    expectConforms('ErrorResponse', json, 'bad temperature');
    expect(json.error.param).toBe('temperature');
  });

  it('malformed JSON body: 400', async () => {
    const response = await fetch(`${sluice.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { ...authorization(), 'content-type': 'application/json' },
      body: '{"model": "gpt-4o",',
    });
    expect(response.status).toBe(400);
    expectConforms('ErrorResponse', await response.json(), 'malformed JSON');
  });

  it('bad embeddings input: 400', async () => {
    const { status, json } = await postJson('/embeddings', { model: 'text-embedding-3-small', input: 42 });
    expect(status).toBe(400);
    expectConforms('ErrorResponse', json, 'bad embeddings input');
  });

  it('upstream 429 (only-429): 429 with retry-after', async () => {
    const { status, headers, json } = await postJson('/chat/completions', { model: 'only-429', messages: [{ role: 'user', content: 'hi' }] });
    expect(status).toBe(429);
    expect(headers.get('retry-after')).toMatch(/^\d+$/);
    expectConforms('ErrorResponse', json, 'upstream 429');
  });

  it('unknown path: 404', async () => {
    const response = await fetch(`${sluice.origin}/nowhere`, { headers: authorization() });
    expect(response.status).toBe(404);
    expectConforms('ErrorResponse', await response.json(), 'unknown path');
  });
});
