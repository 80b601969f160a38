// Hostile and careless input against a running gateway: bodies nested to overflow any recursive
// code, undecodable paths, bodies that lie about their encoding or length, broken HTTP framing and
// megabyte values echoed back. Each is the client's mistake: a 4xx in OpenAI's shape, no vendor
// called, no stack in the log. What no HTTP client would send goes over a raw socket.
import type { AddressInfo } from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluiceError } from '../../adapters/spec/index.js';
import { buildGateway, type Gateway } from '../../src/gateway.js';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';
import { rawConversation, rawExchange } from '../support/raw-http.js';

const MASTER = 'sk-master-hostile-input';
const MAX_DEPTH = 64;
const MAX_KEYS = 1000;
const HEADERS_TIMEOUT_MS = 600;
const REQUEST_TIMEOUT_MS = 1200;

let sluice: TestGateway;
let gateway: Gateway;
let port: number;
let origin: string;
const logLines: Record<string, any>[] = [];

beforeAll(async () => {
  // The harness's fakes and config; the gateway under test is built here so its log can be read.
  sluice = await startTestGateway((raw) => {
    raw.auth = { master_key: MASTER };
    Object.assign(raw.server, {
      json_max_depth: MAX_DEPTH,
      json_max_object_keys: MAX_KEYS,
      headers_timeout_ms: HEADERS_TIMEOUT_MS,
      request_timeout_ms: REQUEST_TIMEOUT_MS,
    });
  });
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
  gateway = buildGateway(sluice.config, logger);
  const server = await gateway.listen(0, '127.0.0.1');
  port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await gateway?.close();
  await sluice?.close();
});

const vendorCalls = () => sluice.openai.requests.length + sluice.deepseek.requests.length + sluice.anthropic.requests.length;

interface Answer {
  status: number;
  body: any;
}

async function send(path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`${origin}${path}`, { ...init, headers: { authorization: `Bearer ${MASTER}`, ...init.headers } });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) };
}

const postChat = (body: string | Uint8Array, headers: Record<string, string> = {}) =>
  send('/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : new Uint8Array(body) });

function expectOpenAIError(body: any): void {
  expect(body).toEqual({ error: { message: expect.any(String), type: expect.any(String), param: expect.toSatisfy((param) => param === null || typeof param === 'string'), code: expect.any(String) } });
}

/** `{"p":{"p":…{}}}`: `levels` objects, the outermost included. */
const nestedObjects = (levels: number) => '{"p":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);
const nestedArrays = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const hello = '[{"role":"user","content":"hello"}]';

describe('JSON nested past the limit is a 400 and no vendor is called', () => {
  const DEEP = 10_000;
  const places = [
    {
      where: 'tools[0].function.parameters',
      model: 'gpt-4o',
      body: `{"model":"gpt-4o","messages":${hello},"tools":[{"type":"function","function":{"name":"f","parameters":${nestedObjects(DEEP)}}}]}`,
    },
    {
      where: 'response_format.json_schema.schema',
      model: 'claude-3-5-sonnet-latest',
      body: `{"model":"claude-3-5-sonnet-latest","messages":${hello},"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":${nestedObjects(DEEP)}}}}`,
    },
    { where: 'messages[0].content', model: 'flaky-503', body: `{"model":"flaky-503","messages":[{"role":"user","content":${nestedArrays(DEEP)}}]}` },
    { where: 'metadata', model: 'auto', body: `{"model":"auto","messages":${hello},"metadata":${nestedObjects(DEEP)}}` },
  ];

  it.each(places)('10,000 levels in $where ($model)', async ({ where, body }) => {
    const before = vendorCalls();
    const answer = await postChat(body);
    expect(answer.status).toBe(400);
    expectOpenAIError(answer.body);
    expect(answer.body.error.code).toBe('json_too_deep');
    expect(answer.body.error.param.startsWith(where)).toBe(true);
    expect(answer.body.error.message).toContain(`more than ${MAX_DEPTH} levels`);
    expect(answer.body.error.message.length).toBeLessThan(300);
    expect(vendorCalls()).toBe(before);
  });

  it('a tool schema exactly at the limit is served, one level more is refused', async () => {
    // The body is level 1; tools, the tool, its function and `parameters` are levels 2–5.
    const atLimit = (levels: number) => `{"model":"gpt-4o","messages":${hello},"tools":[{"type":"function","function":{"name":"f","parameters":${nestedObjects(levels)}}}]}`;
    const before = sluice.openai.calls('/chat/completions');
    const served = await postChat(atLimit(MAX_DEPTH - 4));
    expect(served.status, JSON.stringify(served.body)).toBe(200);
    expect(served.body.object).toBe('chat.completion');
    expect(sluice.openai.calls('/chat/completions')).toBe(before + 1);
    const sent = sluice.openai.requests.at(-1)!.body as any;
    expect(JSON.stringify(sent.tools[0].function.parameters)).toBe(nestedObjects(MAX_DEPTH - 4));

    const refused = await postChat(atLimit(MAX_DEPTH - 3));
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('json_too_deep');
    expect(sluice.openai.calls('/chat/completions')).toBe(before + 1);
  });

  it('an object with more keys than the limit is a 400 naming it', async () => {
    const keys = Array.from({ length: MAX_KEYS + 1 }, (_, index) => `"k${index}":"v"`).join(',');
    const before = vendorCalls();
    const answer = await postChat(`{"model":"gpt-4o","messages":${hello},"metadata":{${keys}}}`);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'json_too_many_keys', param: 'metadata' });
    expect(answer.body.error.message).toContain(`more than ${MAX_KEYS} keys`);
    expect(vendorCalls()).toBe(before);
  });

  it('deep JSON on /v1/embeddings and /v1/vector/search is refused the same way', async () => {
    for (const path of ['/v1/embeddings', '/v1/vector/search']) {
      const answer = await send(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"model":"text-embedding-3-small","input":${nestedArrays(5000)}}` });
      expect(answer.status, path).toBe(400);
      expect(answer.body.error).toMatchObject({ code: 'json_too_deep', param: expect.stringMatching(/^input/) });
    }
  });

  it('a stack overflow while an adapter encodes the request is the request\'s fault: no fallback', async () => {
    const deep = JSON.parse(nestedObjects(DEEP));
    for (const backend of ['openai', 'anthropic']) {
      const adapter = gateway.adapters.get(backend)!;
      const before = vendorCalls();
      const request = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'hi' }], tools: [{ type: 'function' as const, function: { name: 'f', parameters: deep } }] };
      const failure = await adapter.chat!(request, { requestId: 'req_hostile', signal: new AbortController().signal, timeoutMs: 5000 }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure, backend).toBeInstanceOf(SluiceError);
      expect((failure as SluiceError).kind, backend).toBe('invalid-request');
      expect((failure as SluiceError).isRetryable, backend).toBe(false);
      expect(vendorCalls(), backend).toBe(before);
    }
  });
});

describe('undecodable paths and bodies are 400s, not 500s', () => {
  it.each([
    ['GET', '/v1/models/%ff'],
    ['GET', '/v1/models/%E0%A4%A'],
    ['GET', '/v1/models/%'],
    ['DELETE', '/admin/keys/%ff'],
    ['DELETE', '/admin/keys/%c3%28'],
  ])('%s %s', async (method, path) => {
    const linesBefore = logLines.length;
    const answer = await send(path, { method });
    expect(answer.status).toBe(400);
    expectOpenAIError(answer.body);
    expect(answer.body.error.code).toBe('invalid_path');
    expect(answer.body.error.message).toMatch(/percent-encoding/);
    // A client's typo is not an incident: no error line, no stack.
    const logged = logLines.slice(linesBefore);
    expect(logged.filter((line) => line.level >= 50)).toEqual([]);
    expect(logged.filter((line) => line.err?.stack)).toEqual([]);
  });

  const chat = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] });
  it.each([
    ['gzip', Buffer.from(chat)],
    ['gzip', gzipSync(chat).subarray(0, 20)],
    ['deflate', Buffer.from('definitely not deflate')],
    ['br', Buffer.from('not brotli either, not at all')],
  ])('a body declared %s that is not (%#)', async (encoding, body) => {
    const before = vendorCalls();
    const answer = await postChat(body, { 'content-encoding': encoding });
    expect(answer.status).toBe(400);
    expectOpenAIError(answer.body);
    expect(answer.body.error.code).toBe('invalid_encoding');
    expect(answer.body.error.message).toContain(encoding);
    expect(vendorCalls()).toBe(before);
  });

  it('a body in an encoding nobody knows is a 400; real gzip and deflate are served', async () => {
    const unknown = await postChat(chat, { 'content-encoding': 'compress' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('invalid_encoding');
    for (const [encoding, body] of [['gzip', gzipSync(chat)], ['deflate', deflateSync(chat)]] as const) {
      const served = await postChat(body, { 'content-encoding': encoding });
      expect(served.status, encoding).toBe(200);
      expect(served.body.object).toBe('chat.completion');
    }
  });

  it('an upload declared gzip is refused up front', async () => {
    const boundary = 'hostile-boundary';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n--${boundary}--\r\n`;
    const answer = await send('/v1/audio/transcriptions', { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-encoding': 'gzip' }, body: gzipSync(body) });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_encoding');
  });
});

describe('broken HTTP gets the same OpenAI error body', () => {
  const head = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;
  const authorised = [`Host: 127.0.0.1`, `Authorization: Bearer ${MASTER}`, 'Content-Type: application/json'];

  it('a body shorter than its Content-Length is a 408 once the request deadline passes', async () => {
    const answer = await rawExchange(port, head(['POST /v1/chat/completions HTTP/1.1', ...authorised, 'Content-Length: 500']) + '{"model":"gpt-4o"');
    expect(answer.status).toBe(408);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(answer.body);
    expectOpenAIError(body);
    expect(body.error.code).toBe('request_timeout');
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    // Node checks for overdue requests a quarter of the header deadline apart.
    expect(answer.elapsedMs).toBeLessThan(REQUEST_TIMEOUT_MS + HEADERS_TIMEOUT_MS);
  });

  it('headers that never finish are a 408 once the header deadline passes', async () => {
    const answer = await rawExchange(port, 'GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body).error.code).toBe('request_timeout');
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(answer.elapsedMs).toBeLessThan(REQUEST_TIMEOUT_MS);
  });

  it('a body cut short by the client hanging up is a 400 at once', async () => {
    const answer = await rawExchange(port, head(['POST /v1/chat/completions HTTP/1.1', ...authorised, 'Content-Length: 500']) + '{"model":', { isEndingAfterWrite: true });
    expect(answer.status).toBe(400);
    const body = JSON.parse(answer.body);
    expectOpenAIError(body);
    expect(body.error.code).toBe('invalid_body_length');
    expect(answer.elapsedMs).toBeLessThan(REQUEST_TIMEOUT_MS);
  });

  it('a malformed request after a good one on a kept-alive connection still gets its answer', async () => {
    const conversation = await rawConversation(port, ['GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'GET /v1/models/\x01 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n']);
    expect(conversation).toMatch(/^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 400 Bad Request\r\n[\s\S]*"code":"malformed_request"/);
  });

  it('oversized headers are a 431 with a JSON body', async () => {
    const answer = await rawExchange(port, head(['GET /v1/models HTTP/1.1', 'Host: 127.0.0.1', `X-Padding: ${'a'.repeat(64 * 1024)}`]));
    expect(answer.status).toBe(431);
    const body = JSON.parse(answer.body);
    expectOpenAIError(body);
    expect(body.error.code).toBe('request_header_fields_too_large');
  });

  it('broken chunked framing is a 400 with a JSON body', async () => {
    const answer = await rawExchange(port, head(['POST /v1/chat/completions HTTP/1.1', ...authorised, 'Transfer-Encoding: chunked']) + 'zz\r\n{"model"\r\n0\r\n\r\n');
    expect(answer.status).toBe(400);
    const body = JSON.parse(answer.body);
    expectOpenAIError(body);
    expect(body.error.code).toBe('malformed_request');
    expect(body.error.message).toMatch(/chunk/i);
  });

  it('a request line with control bytes is a 400 with a JSON body, and the gateway serves on', async () => {
    const answer = await rawExchange(port, 'GET /v1/models/\x01\x7f HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error.code).toBe('malformed_request');
    const health = await fetch(`${origin}/health`);
    expect(health.status).toBe(200);
  });
});

describe('values echoed in errors are cut to a prefix', () => {
  const huge = (char: string) => char.repeat(3 * 1024 * 1024);

  it('a 3 MB model name', async () => {
    const answer = await postChat(JSON.stringify({ model: huge('m'), messages: [{ role: 'user', content: 'hello' }] }));
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('model_not_found');
    expect(answer.body.error.message).toMatch(/^The model 'm{64}…' does not exist/);
    expect(answer.body.error.message.length).toBeLessThan(200);
  });

  it('a 3 MB model name on /v1/embeddings', async () => {
    const answer = await send('/v1/embeddings', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: huge('e'), input: 'hello' }) });
    expect(answer.status).toBe(404);
    expect(answer.body.error.message.length).toBeLessThan(200);
  });

  it('a 3 MB unknown field name', async () => {
    const answer = await postChat(JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }], [huge('f')]: 1 }));
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(/^Unrecognized request argument supplied: f{64}…$/);
    expect(answer.body.error.param.length).toBeLessThan(100);
  });

  it('a 1 MB function name in tool_choice', async () => {
    const answer = await postChat(
      JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }], tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function', function: { name: huge('t').slice(0, 1 << 20) } } }),
    );
    expect(answer.status).toBe(400);
    expect(answer.body.error.param).toBe('tool_choice');
    expect(answer.body.error.message.length).toBeLessThan(200);
  });

  it('a long model id in the path and a long unknown path', async () => {
    const model = await send(`/v1/models/${'x'.repeat(8000)}`);
    expect(model.status).toBe(404);
    expect(model.body.error.message.length).toBeLessThan(200);
    const path = await send(`/${'p'.repeat(8000)}`);
    expect(path.status).toBe(404);
    expect(path.body.error.message.length).toBeLessThan(200);
  });
});
