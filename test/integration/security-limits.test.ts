/**
 * SECURITY.md, limits: a body over its limit is answered 413 as soon as its size is known — from
 * Content-Length before a byte of it is read, or from the running count of a chunked body — and
 * the connection is closed, so a client cannot make the gateway read gigabytes to say no.
 * Oversized headers are a 431. Over a raw socket: a client that sends a little and then waits.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';
import { rawExchange } from '../support/raw-http.js';

const MASTER = 'sk-master-security-limits';
const JSON_LIMIT_BYTES = 64 * 1024;
const UPLOAD_LIMIT_BYTES = 256 * 1024;
/** Far past anything that would arrive before the request deadline. */
const HUGE_BYTES = 4 * 1024 * 1024 * 1024;
/** The request deadline: an answer that only came after reading the (never sent) rest would take this long. */
const REQUEST_TIMEOUT_MS = 5000;

let sluice: TestGateway;
let port: number;

beforeAll(async () => {
  sluice = await startTestGateway((raw) => {
    raw.auth = { master_key: MASTER };
    Object.assign(raw.server, { json_limit_bytes: JSON_LIMIT_BYTES, body_limit_bytes: UPLOAD_LIMIT_BYTES, request_timeout_ms: REQUEST_TIMEOUT_MS, headers_timeout_ms: 2000 });
  });
  port = Number(new URL(sluice.origin).port);
});
afterAll(async () => {
  await sluice?.close();
});

const vendorCalls = () => sluice.openai.requests.length + sluice.deepseek.requests.length + sluice.anthropic.requests.length;
const head = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;
const BOUNDARY = 'security-boundary';
const multipartStart = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n`;

const endpoints = [
  { name: 'chat (JSON)', path: '/v1/chat/completions', type: 'application/json', start: '{"model":"gpt-4o","messages":[{"role":"user","content":"', limit: JSON_LIMIT_BYTES },
  { name: 'transcription (multipart)', path: '/v1/audio/transcriptions', type: `multipart/form-data; boundary=${BOUNDARY}`, start: multipartStart, limit: UPLOAD_LIMIT_BYTES },
  { name: 'passthrough (JSON)', path: '/v1/moderations', type: 'application/json', start: '{"model":"omni-moderation-latest","input":"', limit: JSON_LIMIT_BYTES },
];

function expectPrompt413(answer: { status: number; headers: Record<string, string>; body: string; elapsedMs: number }, limit: number): void {
  expect(answer.status).toBe(413);
  expect(answer.headers.connection).toBe('close');
  const { error } = JSON.parse(answer.body) as { error: { code: string; message: string } };
  expect(error.code).toBe('request_too_large');
  expect(error.message).toContain(`${limit}-byte limit`);
  expect(answer.elapsedMs).toBeLessThan(REQUEST_TIMEOUT_MS / 2);
}

/** Resolves when the server closes the connection, with how long that took from `since`. */
function closedWithin(socketPort: number, request: string, since = performance.now()): Promise<{ answer: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const socket = connect({ port: socketPort, host: '127.0.0.1' });
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve({ answer, closedAfterMs: performance.now() - since }));
    socket.write(request);
  });
}

describe('a body over its limit is refused before it is read to its end', () => {
  it.each(endpoints)('$name: a declared Content-Length over the limit is a 413 after a few bytes', async ({ path, type, start, limit }) => {
    const before = vendorCalls();
    const request = head([`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', `Authorization: Bearer ${MASTER}`, `Content-Type: ${type}`, `Content-Length: ${HUGE_BYTES}`]) + start + 'x'.repeat(1000);
    expectPrompt413(await rawExchange(port, request), limit);
    expect(vendorCalls()).toBe(before);
  });

  it.each(endpoints)('$name: a chunked body is a 413 as soon as it passes the limit, not when it ends', async ({ path, type, start, limit }) => {
    const before = vendorCalls();
    const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
    // The limit and a bit, then nothing: no terminating chunk ever comes.
    const request = head([`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', `Authorization: Bearer ${MASTER}`, `Content-Type: ${type}`, 'Transfer-Encoding: chunked']) + chunk(start) + chunk('y'.repeat(limit + 1024));
    expectPrompt413(await rawExchange(port, request), limit);
    expect(vendorCalls()).toBe(before);
  });

  it('the connection is closed after the 413, whatever the client would still send', async () => {
    const request = head(['POST /v1/chat/completions HTTP/1.1', 'Host: 127.0.0.1', `Authorization: Bearer ${MASTER}`, 'Content-Type: application/json', `Content-Length: ${HUGE_BYTES}`]) + '{"model":';
    const { answer, closedAfterMs } = await closedWithin(port, request);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS / 2);
  });

  it('a body within the limit is still served', async () => {
    const response = await fetch(`${sluice.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'z'.repeat(JSON_LIMIT_BYTES / 2) }] }),
    });
    expect(response.status).toBe(200);
  });
});

describe('header limits', () => {
  it("headers past Node's limit are a 431 with an OpenAI error body, before any route runs", async () => {
    const before = vendorCalls();
    const answer = await rawExchange(port, head(['POST /v1/chat/completions HTTP/1.1', 'Host: 127.0.0.1', `Authorization: Bearer ${MASTER}`, `X-Padding: ${'p'.repeat(20 * 1024)}`, 'Content-Length: 2']) + '{}');
    expect(answer.status).toBe(431);
    expect((JSON.parse(answer.body) as { error: { code: string } }).error.code).toBe('request_header_fields_too_large');
    expect(vendorCalls()).toBe(before);
  });
});
