import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openAIWire } from '../../../../adapters/openai-compatible/openai-wire.js';
import { SluiceError } from '../../../../adapters/spec/index.js';

// The chat path's own client, against loopback servers answering as an OpenAI-protocol vendor
// does on its bad days: split and CRLF event streams, error events, broken JSON, stalls.
let server: http.Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

async function vendor(handler: http.RequestListener): Promise<string> {
  server = http.createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

const call = (timeoutMs = 2000) => ({ requestId: 'req_test', signal: new AbortController().signal, timeoutMs });

async function failure(promise: Promise<unknown>): Promise<SluiceError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(SluiceError);
  return error as SluiceError;
}

async function collect(events: AsyncIterable<unknown>): Promise<unknown[]> {
  const seen: unknown[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

describe('openAIWire', () => {
  it('sends the key, the request id and the JSON body, and parses the JSON answer', async () => {
    let seen: { headers: http.IncomingHttpHeaders; body: string; url?: string } | undefined;
    const url = await vendor((request, response) => {
      let body = '';
      request.on('data', (part) => (body += part));
      request.on('end', () => {
        seen = { headers: request.headers, body, url: request.url };
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"chatcmpl-1","choices":[]}');
      });
    });
    const wire = openAIWire({ backendId: 'vendor', baseUrl: url, headers: { authorization: 'Bearer sk-test' } });
    expect(await wire.json('chat/completions', { model: 'm', messages: [] }, call())).toEqual({ id: 'chatcmpl-1', choices: [] });
    expect(seen?.url).toBe('/v1/chat/completions');
    expect(seen?.headers.authorization).toBe('Bearer sk-test');
    expect(seen?.headers['x-request-id']).toBe('req_test');
    expect(JSON.parse(seen!.body)).toEqual({ model: 'm', messages: [] });
  });

  it('reads events split across writes, CRLF line ends, comments and multi-line data, and stops at [DONE]', async () => {
    const url = await vendor((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(': keep-alive\r\n\r\ndata: {"n"');
      setTimeout(() => {
        response.write(':1}\r\n\r\ndata: {"n":\ndata: 2}\n\n');
        response.end('data: [DONE]\n\ndata: {"n":3}\n\n');
      }, 20);
    });
    const wire = openAIWire({ backendId: 'vendor', baseUrl: url, headers: {} });
    expect(await collect(wire.events('chat/completions', {}, call()))).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('ends a stream with the vendor failure on an error event or an error payload, and on an event that is not JSON', async () => {
    for (const [frames, message] of [
      ['data: {"n":1}\n\nevent: error\ndata: {"error":{"message":"overloaded"}}\n\n', 'vendor: overloaded'],
      ['data: {"n":1}\n\ndata: {"error":{"message":"server went away"}}\n\n', 'vendor: server went away'],
      ['data: {"n":1}\n\ndata: {not json\n\n', 'vendor: a stream event is not JSON'],
    ] as const) {
      const url = await vendor((_request, response) => response.writeHead(200, { 'content-type': 'text/event-stream' }).end(frames));
      const wire = openAIWire({ backendId: 'vendor', baseUrl: url, headers: {} });
      const seen: unknown[] = [];
      const error = await failure((async () => {
        for await (const event of wire.events('chat/completions', {}, call())) seen.push(event);
      })());
      expect(seen).toEqual([{ n: 1 }]);
      expect(error.kind).toBe('upstream-unavailable');
      expect(error.message).toBe(message);
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
    }
  });

  it('keeps the vendor status, message, param, code and retry-after of an error answer', async () => {
    const url = await vendor((_request, response) => {
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
      response.end('{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}');
    });
    const error = await failure(openAIWire({ backendId: 'vendor', baseUrl: url, headers: {} }).json('chat/completions', {}, call()));
    expect(error.kind).toBe('rate-limited');
    expect(error.message).toBe('vendor: Rate limit reached');
    expect(error.detail).toMatchObject({ upstreamStatus: 429, code: 'rate_limit_exceeded', retryAfterSeconds: 7 });
  });

  it('reports a non-JSON error body with its status, as the SDK does', async () => {
    const url = await vendor((_request, response) => response.writeHead(502, { 'content-type': 'text/html' }).end('Bad Gateway'));
    const error = await failure(openAIWire({ backendId: 'vendor', baseUrl: url, headers: {} }).json('chat/completions', {}, call()));
    expect(error.kind).toBe('upstream-unavailable');
    expect(error.message).toBe('vendor: 502 Bad Gateway');
  });

  it('times out a JSON answer whose body stalls after its head', async () => {
    const url = await vendor((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"id":');
    });
    const started = Date.now();
    const error = await failure(openAIWire({ backendId: 'vendor', baseUrl: url, headers: {} }).json('chat/completions', {}, call(200)));
    expect(error.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(1500);
    server!.closeAllConnections();
  });

  it('fails a stream whose connection drops before the end as upstream-unavailable, not as a quiet end', async () => {
    const url = await vendor((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: {"n":1}\n\n', () => setTimeout(() => response.socket?.destroy(), 20));
    });
    const seen: unknown[] = [];
    const error = await failure((async () => {
      for await (const event of openAIWire({ backendId: 'vendor', baseUrl: url, headers: {} }).events('chat/completions', {}, call())) seen.push(event);
    })());
    expect(seen).toEqual([{ n: 1 }]);
    expect(error.kind).toBe('upstream-unavailable');
  });

  it('answers client-closed when the caller aborts while waiting, and unreachable when nothing listens', async () => {
    const url = await vendor(() => {});
    const controller = new AbortController();
    const pending = openAIWire({ backendId: 'vendor', baseUrl: url, headers: {} }).json('chat/completions', {}, { requestId: 'r', signal: controller.signal, timeoutMs: 5000 });
    setTimeout(() => controller.abort(), 50);
    expect((await failure(pending)).kind).toBe('client-closed');
    server!.closeAllConnections();
    const closed = openAIWire({ backendId: 'vendor', baseUrl: 'http://127.0.0.1:1/v1', headers: {} });
    const unreachable = await failure(closed.json('chat/completions', {}, call()));
    expect(unreachable.kind).toBe('upstream-unavailable');
    expect(unreachable.message).toMatch(/^vendor unreachable: /);
  });
});
