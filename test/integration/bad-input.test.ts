// Bad input is a table (STYLE §7): each row is raw bytes and headers sent with plain `fetch`, and the
// OpenAI-shaped error the gateway must answer with — status, `param`, `code` and a message naming the problem.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

type Endpoint = '/chat/completions' | '/embeddings' | '/audio/transcriptions';

interface Row {
  name: string;
  endpoint: Endpoint;
  body: string | Buffer;
  contentType?: string;
  /** Rows that need the gateway with small body limits. */
  limited?: boolean;
  status: number;
  /** `null` asserts no field is blamed; a RegExp allows several equally good names. */
  param: string | RegExp | null;
  message: RegExp;
  code?: string;
  type?: string;
}

const JSON_LIMIT_BYTES = 2048;
const UPLOAD_LIMIT_BYTES = 4096;

const user = { role: 'user', content: 'hello there' };

function chatRow(name: string, patch: Record<string, unknown>, expected: Omit<Row, 'name' | 'endpoint' | 'body'>, omit: string[] = []): Row {
  const body: Record<string, unknown> = { model: 'gpt-4o', messages: [user], ...patch };
  for (const key of omit) delete body[key];
  return { name, endpoint: '/chat/completions', body: JSON.stringify(body), ...expected };
}

function embeddingRow(name: string, patch: Record<string, unknown>, expected: Omit<Row, 'name' | 'endpoint' | 'body'>, omit: string[] = []): Row {
  const body: Record<string, unknown> = { model: 'text-embedding-3-small', input: 'hello there', ...patch };
  for (const key of omit) delete body[key];
  return { name, endpoint: '/embeddings', body: JSON.stringify(body), ...expected };
}

interface Part {
  name: string;
  value: string | Buffer;
  filename?: string;
  contentType?: string;
}

const BOUNDARY = 'sluice-test-boundary-7f3a';
const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;

/** A multipart/form-data body built byte by byte, so a row can break it exactly where it wants. */
function multipart(parts: Part[], { closed = true } = {}): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename === undefined ? '' : `; filename="${part.filename}"`}`;
    const type = part.contentType ? `\r\nContent-Type: ${part.contentType}` : '';
    chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: ${disposition}${type}\r\n\r\n`), Buffer.from(part.value), Buffer.from('\r\n'));
  }
  if (closed) chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

const audio = (bytes = 2000): Part => ({ name: 'file', value: Buffer.alloc(bytes, 0x42), filename: 'speech.mp3', contentType: 'audio/mpeg' });
const whisper: Part = { name: 'model', value: 'whisper-1' };

function transcriptionRow(name: string, parts: Part[], expected: Omit<Row, 'name' | 'endpoint' | 'body' | 'contentType'>): Row {
  return { name, endpoint: '/audio/transcriptions', body: multipart(parts), contentType: MULTIPART, ...expected };
}

/** `[[[…]]]` nested `depth` times: garbage a recursive validator could choke on. */
const nestedArrays = (depth: number) => JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown;

const invalidJson = { status: 400, param: null, code: 'invalid_json', message: /could not parse the JSON body/i } as const;

const rows: Row[] = [
  // The body as a whole, on /chat/completions.
  { name: 'body is not JSON', endpoint: '/chat/completions', body: 'model=gpt-4o&messages=hi', ...invalidJson },
  { name: 'truncated JSON', endpoint: '/chat/completions', body: '{"model":"gpt-4o","messages":[{"role":"user","cont', ...invalidJson },
  { name: 'JSON array as body', endpoint: '/chat/completions', body: '[{"model":"gpt-4o"}]', status: 400, param: null, message: /must be a JSON object, not an array/ },
  { name: 'JSON string as body', endpoint: '/chat/completions', body: '"hello"', status: 400, param: null, message: /must be a JSON object, not a string/ },
  { name: 'JSON number as body', endpoint: '/chat/completions', body: '42', status: 400, param: null, message: /must be a JSON object, not a number/ },
  { name: 'JSON null as body', endpoint: '/chat/completions', body: 'null', status: 400, param: null, message: /must be a JSON object, not null/ },
  // body-parser reads an empty JSON body as `{}`; OpenAI likewise answers that the model is missing.
  { name: 'empty body', endpoint: '/chat/completions', body: '', status: 400, param: 'model', code: 'missing_required_parameter', message: /Missing required parameter: 'model'/ },
  { name: 'wrong content-type', endpoint: '/chat/completions', body: JSON.stringify({ model: 'gpt-4o', messages: [user] }), contentType: 'text/plain', status: 400, param: null, message: /application\/json/ },
  {
    name: 'invalid UTF-8 inside a JSON string',
    endpoint: '/chat/completions',
    body: Buffer.concat([Buffer.from('{"model":"gpt-4o","messages":[{"role":"user","content":"caf'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}]}')]),
    status: 400,
    param: null,
    code: 'invalid_encoding',
    message: /UTF-8/,
  },
  chatRow('body over the JSON limit', { messages: [{ role: 'user', content: 'x'.repeat(JSON_LIMIT_BYTES * 2) }] }, { limited: true, status: 413, param: null, code: 'request_too_large', message: new RegExp(`${JSON_LIMIT_BYTES}-byte limit`) }),

  // Chat fields.
  chatRow('missing model', {}, { status: 400, param: 'model', code: 'missing_required_parameter', message: /Missing required parameter: 'model'/ }, ['model']),
  chatRow('model not a string', { model: 42 }, { status: 400, param: 'model', message: /'model'.*expected string/ }),
  chatRow('unknown model', { model: 'gpt-17-ultra' }, { status: 404, param: 'model', code: 'model_not_found', message: /'gpt-17-ultra' does not exist/ }),
  chatRow('missing messages', {}, { status: 400, param: 'messages', code: 'missing_required_parameter', message: /Missing required parameter: 'messages'/ }, ['messages']),
  chatRow('empty messages array', { messages: [] }, { status: 400, param: 'messages', message: /'messages'.*>=1/ }),
  chatRow('message without role', { messages: [{ content: 'hi' }] }, { status: 400, param: 'messages[0].role', code: 'missing_required_parameter', message: /Missing required parameter: 'messages\[0\]\.role'/ }),
  chatRow('unknown role', { messages: [{ role: 'robot', content: 'hi' }] }, { status: 400, param: 'messages[0].role', code: 'invalid_value', message: /'messages\[0\]\.role'.*'assistant'/ }),
  chatRow('user content of the wrong type', { messages: [{ role: 'user', content: 42 }] }, { status: 400, param: 'messages[0].content', message: /messages\[0\]\.content/ }),
  chatRow('content part of an unknown type', { messages: [{ role: 'user', content: [{ type: 'video', video: 'x' }] }] }, { status: 400, param: 'messages[0].content[0].type', message: /messages\[0\]\.content\[0\]\.type/ }),
  chatRow('image_url without url', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] }, { status: 400, param: 'messages[0].content[0].image_url.url', code: 'missing_required_parameter', message: /image_url\.url/ }),
  chatRow('tool message without tool_call_id', { messages: [user, { role: 'tool', content: '42' }] }, { status: 400, param: 'messages[1].tool_call_id', code: 'missing_required_parameter', message: /messages\[1\]\.tool_call_id/ }),
  chatRow('assistant with neither content nor tool_calls', { messages: [user, { role: 'assistant' }] }, { status: 400, param: 'messages[1].content', message: /needs content or tool_calls/ }),
  chatRow('temperature out of range', { temperature: 3 }, { status: 400, param: 'temperature', message: /'temperature'.*<=2/ }),
  chatRow('temperature a string', { temperature: 'hot' }, { status: 400, param: 'temperature', message: /'temperature'.*expected number/ }),
  chatRow('top_p above 1', { top_p: 1.5 }, { status: 400, param: 'top_p', message: /'top_p'.*<=1/ }),
  chatRow('n = 0', { n: 0 }, { status: 400, param: 'n', message: /'n'.*>=1/ }),
  chatRow('n not an integer', { n: 1.5 }, { status: 400, param: 'n', message: /'n'.*int/ }),
  chatRow('max_tokens negative', { max_tokens: -5 }, { status: 400, param: 'max_tokens', message: /'max_tokens'.*>0/ }),
  chatRow('max_tokens and max_completion_tokens both set', { max_tokens: 10, max_completion_tokens: 10 }, { status: 400, param: 'max_tokens', message: /cannot both be set/ }),
  chatRow('stop with 5 strings', { stop: ['a', 'b', 'c', 'd', 'e'] }, { status: 400, param: 'stop', message: /'stop'.*<=4/ }),
  chatRow('stream not a boolean', { stream: 'yes' }, { status: 400, param: 'stream', message: /'stream'.*expected boolean/ }),
  chatRow('stream_options without stream', { stream_options: { include_usage: true } }, { status: 400, param: 'stream_options', message: /only allowed when 'stream' is true/ }),
  chatRow('tools not an array', { tools: { type: 'function' } }, { status: 400, param: 'tools', message: /'tools'.*expected array/ }),
  chatRow('tool with a bad function name', { tools: [{ type: 'function', function: { name: 'get weather!' } }] }, { status: 400, param: 'tools[0].function.name', message: /1-64 characters/ }),
  chatRow('tool_choice without tools', { tool_choice: 'required' }, { status: 400, param: 'tool_choice', message: /only allowed when 'tools' are specified/ }),
  chatRow(
    'tool_choice naming an unknown function',
    { tools: [{ type: 'function', function: { name: 'get_weather' } }], tool_choice: { type: 'function', function: { name: 'get_time' } } },
    { status: 400, param: 'tool_choice', message: /"get_time", which is not in 'tools'/ },
  ),
  chatRow('response_format of an unknown type', { response_format: { type: 'yaml' } }, { status: 400, param: 'response_format.type', message: /response_format\.type/ }),
  chatRow('json_schema without name', { response_format: { type: 'json_schema', json_schema: { schema: { type: 'object' } } } }, { status: 400, param: 'response_format.json_schema.name', code: 'missing_required_parameter', message: /json_schema\.name/ }),
  chatRow('logit_bias value out of range', { logit_bias: { '50256': 200 } }, { status: 400, param: 'logit_bias.50256', message: /logit_bias.*<=100/ }),
  chatRow('top_logprobs without logprobs', { top_logprobs: 5 }, { status: 400, param: 'top_logprobs', message: /requires 'logprobs'/ }),
  chatRow('unknown top-level parameter', { temprature: 0.5 }, { status: 400, param: 'temprature', message: /^Unrecognized request argument supplied: temprature$/ }),
  // Past server.json_max_depth (64 by default) the body is refused before it is even parsed.
  chatRow('deeply nested garbage as content', { messages: [{ role: 'user', content: nestedArrays(2000) }] }, { status: 400, param: /^messages\[0\]\.content\[0\]\[0\]/, code: 'json_too_deep', message: /more than 64 levels deep, at 'messages\[0\]\.content/ }),
  chatRow('deeply nested garbage in a text part', { messages: [{ role: 'user', content: [{ type: 'text', text: { a: { b: { c: nestedArrays(500) } } } }] }] }, { status: 400, param: /^messages\[0\]\.content\[0\]\.text\.a\.b\.c\[0\]/, code: 'json_too_deep', message: /more than 64 levels deep/ }),
  chatRow('nested garbage within the depth limit in a text part', { messages: [{ role: 'user', content: [{ type: 'text', text: { a: { b: { c: nestedArrays(50) } } } }] }] }, { status: 400, param: 'messages[0].content[0].text', message: /expected string/ }),

  // /embeddings.
  { name: 'embeddings: body is not JSON', endpoint: '/embeddings', body: '{"input": hello}', ...invalidJson },
  embeddingRow('embeddings: missing model', {}, { status: 400, param: 'model', code: 'missing_required_parameter', message: /'model'/ }, ['model']),
  embeddingRow('embeddings: missing input', {}, { status: 400, param: 'input', code: 'missing_required_parameter', message: /Missing required parameter: 'input'/ }, ['input']),
  embeddingRow('embeddings: input is an empty array', { input: [] }, { status: 400, param: 'input', message: /'input'/ }),
  embeddingRow('embeddings: input of mixed types', { input: ['hello', 42] }, { status: 400, param: /^input/, message: /'input/ }),
  embeddingRow('embeddings: input of objects', { input: [{ text: 'hello' }] }, { status: 400, param: /^input/, message: /'input/ }),
  embeddingRow('embeddings: negative token ids', { input: [15339, -1] }, { status: 400, param: 'input[1]', message: /'input\[1\]'.*>=0/ }),
  embeddingRow('embeddings: unknown encoding_format', { encoding_format: 'hex' }, { status: 400, param: 'encoding_format', message: /'encoding_format'.*"float"/ }),
  embeddingRow('embeddings: dimensions = 0', { dimensions: 0 }, { status: 400, param: 'dimensions', message: /'dimensions'.*>0/ }),
  embeddingRow('embeddings: a chat-only model', { model: 'gpt-4o' }, { status: 400, param: 'model', message: /'gpt-4o' does not support embed/ }),
  embeddingRow('embeddings: unknown model', { model: 'text-embedding-9' }, { status: 404, param: 'model', code: 'model_not_found', message: /'text-embedding-9' does not exist/ }),

  // /audio/transcriptions.
  {
    name: 'transcriptions: not multipart',
    endpoint: '/audio/transcriptions',
    body: JSON.stringify({ model: 'whisper-1', file: 'speech.mp3' }),
    status: 400,
    param: 'file',
    message: /multipart\/form-data/,
  },
  transcriptionRow('transcriptions: multipart without file', [whisper], { status: 400, param: 'file', code: 'missing_required_parameter', message: /Missing required parameter: 'file'/ }),
  transcriptionRow('transcriptions: missing model', [audio()], { status: 400, param: 'model', code: 'missing_required_parameter', message: /'model'/ }),
  {
    name: 'transcriptions: multipart without a boundary',
    endpoint: '/audio/transcriptions',
    body: multipart([whisper, audio()]),
    contentType: 'multipart/form-data',
    status: 400,
    param: null,
    message: /malformed multipart body.*[Bb]oundary/,
  },
  {
    name: 'transcriptions: truncated multipart body',
    endpoint: '/audio/transcriptions',
    body: multipart([whisper, audio()], { closed: false }).subarray(0, 300),
    contentType: MULTIPART,
    status: 400,
    param: null,
    message: /malformed multipart body.*end of form/i,
  },
  {
    name: 'transcriptions: boundary in the header does not match the body',
    endpoint: '/audio/transcriptions',
    body: multipart([whisper, audio()]),
    contentType: 'multipart/form-data; boundary=some-other-boundary',
    status: 400,
    param: null,
    message: /malformed multipart body: Unexpected end of form/,
  },
  transcriptionRow('transcriptions: empty file', [whisper, { ...audio(), value: Buffer.alloc(0) }], { status: 400, param: 'file', message: /'file' is empty/ }),
  transcriptionRow('transcriptions: unsupported file type', [whisper, { name: 'file', value: 'just some text', filename: 'notes.txt', contentType: 'text/plain' }], { status: 400, param: 'file', message: /Invalid file format for 'notes\.txt'/ }),
  transcriptionRow('transcriptions: unknown response_format', [whisper, audio(), { name: 'response_format', value: 'xml' }], { status: 400, param: 'response_format', message: /'response_format'/ }),
  transcriptionRow('transcriptions: temperature not a number', [whisper, audio(), { name: 'temperature', value: 'warm' }], { status: 400, param: 'temperature', message: /'temperature'.*expected number/ }),
  transcriptionRow('transcriptions: unknown field', [whisper, audio(), { name: 'speed', value: '2' }], { status: 400, param: 'speed', message: /Unrecognized request argument supplied: speed/ }),
  transcriptionRow('transcriptions: file over the upload limit', [whisper, audio(UPLOAD_LIMIT_BYTES * 4)], { limited: true, status: 413, param: 'file', code: 'request_too_large', message: new RegExp(`${UPLOAD_LIMIT_BYTES}-byte limit`) }),
  transcriptionRow('transcriptions: unknown model', [{ name: 'model', value: 'whisper-9' }, audio()], { status: 404, param: 'model', code: 'model_not_found', message: /'whisper-9' does not exist/ }),
  transcriptionRow('transcriptions: a chat model', [{ name: 'model', value: 'gpt-4o' }, audio()], { status: 400, param: 'model', message: /'gpt-4o' does not support transcribe/ }),
];

let sluice: TestGateway;
let limited: TestGateway;

beforeAll(async () => {
  [sluice, limited] = await Promise.all([
    startTestGateway(),
    startTestGateway((raw) => {
      raw.server.json_limit_bytes = JSON_LIMIT_BYTES;
      raw.server.body_limit_bytes = UPLOAD_LIMIT_BYTES;
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([sluice?.close(), limited?.close()]);
});

describe('bad input', () => {
  it('has a row for every case the brief lists', () => {
    expect(rows.length).toBeGreaterThanOrEqual(45);
    expect(new Set(rows.map((row) => row.name)).size).toBe(rows.length);
  });

  it.each(rows)('$name → $status', async (row) => {
    const target = row.limited ? limited : sluice;
    const response = await fetch(`${target.baseURL}${row.endpoint}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${target.apiKey}`, 'content-type': row.contentType ?? 'application/json' },
      // A copy on a plain ArrayBuffer: what fetch's BodyInit type accepts.
      body: typeof row.body === 'string' ? row.body : new Uint8Array(row.body),
    });
    expect(response.headers.get('x-sluice-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as { error: { message: string; type: string; param: string | null; code: string | null } };
    expect({ status: response.status, body }).toMatchObject({ status: row.status });
    expect(response.status).toBeLessThan(500);
    expect(Object.keys(body)).toEqual(['error']);
    expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(body.error.type).toBe(row.type ?? 'invalid_request_error');
    expect(body.error.message).toMatch(row.message);
    if (row.param instanceof RegExp) expect(body.error.param).toMatch(row.param);
    else expect(body.error.param).toBe(row.param);
    if (row.code !== undefined) expect(body.error.code).toBe(row.code);
  });

  it('still answers a valid request after the table', async () => {
    const response = await fetch(`${sluice.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sluice.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [user] }),
    });
    expect(response.status).toBe(200);
    const completion = (await response.json()) as { object: string };
    expect(completion.object).toBe('chat.completion');
  });
});
