/**
 * The sidecar's failures go through the status table every HTTP backend shares
 * (adapters/shared/http-failure.ts): a caller's bad upload stays a 400 with the sidecar's own
 * message, param and code, an oversized one a 413, while a sidecar that is overloaded, broken or
 * wired wrong is a failure the chain can move past. A loopback server answers as the sidecar does
 * (python-sidecar/sluice_sidecar/errors.py: OpenAI's error shape).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSidecarAdapter } from '../../../../adapters/sidecar/sidecar-adapter.js';
import { SluiceError, type Adapter, type ErrorKind } from '../../../../adapters/spec/index.js';

interface SidecarAnswer {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as it is (a proxy's HTML page, say). */
  body: object | string;
}

let server: Server;
let adapter: Adapter;
let next: SidecarAnswer;
let requestsSeen = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      requestsSeen += 1;
      const isJson = typeof next.body !== 'string';
      response.writeHead(next.status, { 'content-type': isJson ? 'application/json' : 'text/html', ...next.headers });
      response.end(isJson ? JSON.stringify(next.body) : next.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  adapter = createSidecarAdapter({
    id: 'sidecar',
    type: 'sidecar',
    // A base URL means a sidecar someone else runs: no child process is started.
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    timeoutMs: 5_000,
    options: {},
    paths: { modelsDir: 'models', dataDir: 'data' },
  });
});
afterAll(async () => {
  await adapter.close();
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
});

const sidecarError = (message: string, param: string | null, code: string | null, type = 'invalid_request_error') => ({
  error: { message, type, param, code },
});

async function failureFor(answer: SidecarAnswer): Promise<SluiceError> {
  next = answer;
  const before = requestsSeen;
  const failure = await adapter
    .transcribe!(
      { model: 'whisper-local', file: { data: Buffer.from('RIFF not really audio'), filename: 'a.wav', contentType: 'audio/wav' } },
      { requestId: 'req_sidecar', signal: new AbortController().signal, timeoutMs: 5_000 },
    )
    .then(
      () => undefined,
      (error: unknown) => error,
    );
  expect(requestsSeen, 'the sidecar was asked').toBe(before + 1);
  expect(failure).toBeInstanceOf(SluiceError);
  return failure as SluiceError;
}

interface Row {
  label: string;
  answer: SidecarAnswer;
  kind: ErrorKind;
  message: string;
  param?: string;
  code?: string;
  retryAfterSeconds?: number;
  isRetryable: boolean;
}

const ROWS: Row[] = [
  {
    label: 'an undecodable upload (400)',
    answer: { status: 400, body: sidecarError('The audio file could not be decoded.', 'file', 'invalid_audio') },
    kind: 'invalid-request',
    message: 'The audio file could not be decoded.',
    param: 'file',
    code: 'invalid_audio',
    isRetryable: false,
  },
  {
    label: 'a language Whisper does not know (400)',
    answer: { status: 400, body: sidecarError("Unsupported language 'xx'.", 'language', 'unsupported_language') },
    kind: 'invalid-request',
    message: "Unsupported language 'xx'.",
    param: 'language',
    code: 'unsupported_language',
    isRetryable: false,
  },
  {
    label: 'an upload over the sidecar’s limit (413)',
    answer: { status: 413, body: sidecarError('The file is larger than 25 MB.', 'file', 'file_too_large') },
    kind: 'payload-too-large',
    message: 'The file is larger than 25 MB.',
    param: 'file',
    code: 'file_too_large',
    isRetryable: false,
  },
  {
    label: 'a route the sidecar does not have (404): our wiring, not the caller',
    answer: { status: 404, body: sidecarError('Not Found', null, 'not_found') },
    kind: 'upstream-rejected',
    message: 'sidecar: Not Found',
    code: 'not_found',
    isRetryable: true,
  },
  {
    label: 'a sidecar that is busy (429 with retry-after)',
    answer: { status: 429, headers: { 'retry-after': '3' }, body: sidecarError('Too many transcriptions at once.', null, 'busy') },
    kind: 'rate-limited',
    message: 'sidecar: Too many transcriptions at once.',
    code: 'busy',
    retryAfterSeconds: 3,
    isRetryable: true,
  },
  {
    label: 'a crash inside the sidecar (500)',
    answer: { status: 500, body: sidecarError('The sidecar failed to process the request.', null, 'internal_error', 'server_error') },
    kind: 'upstream-unavailable',
    message: 'sidecar: The sidecar failed to process the request.',
    code: 'internal_error',
    isRetryable: true,
  },
  {
    label: 'a proxy in front of it that is down (503, not JSON)',
    answer: { status: 503, headers: { 'retry-after': '12' }, body: '<html>Service Unavailable</html>' },
    kind: 'upstream-unavailable',
    message: 'sidecar: HTTP 503',
    retryAfterSeconds: 12,
    isRetryable: true,
  },
  {
    label: 'a gateway timeout in front of it (504)',
    answer: { status: 504, body: '' },
    kind: 'timeout',
    message: 'sidecar: HTTP 504',
    isRetryable: true,
  },
];

describe('sidecar adapter: HTTP failures', () => {
  it.each(ROWS)('$label', async (row) => {
    const failure = await failureFor(row.answer);
    expect(failure.kind).toBe(row.kind);
    expect(failure.message).toBe(row.message);
    expect(failure.detail.param).toBe(row.param);
    expect(failure.detail.code).toBe(row.code);
    expect(failure.detail.retryAfterSeconds).toBe(row.retryAfterSeconds);
    expect(failure.detail.upstreamStatus).toBe(row.answer.status);
    expect(failure.isRetryable).toBe(row.isRetryable);
  });
});
