/**
 * @anthropic-ai/sdk fills every option it is not given from the environment: ANTHROPIC_AUTH_TOKEN
 * would add a second `Authorization`, ANTHROPIC_API_KEY or ANTHROPIC_BASE_URL would replace the
 * configured ones. The adapter sends only what its config entry says. A loopback server answering
 * like the Messages API records the headers each call carried.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAnthropicAdapter } from '../../../../adapters/anthropic/anthropic-adapter.js';
import type { AdapterSettings } from '../../../../adapters/spec/index.js';

interface RecordingServer {
  url: string;
  seen: IncomingHttpHeaders[];
  close(): Promise<void>;
}

async function startRecordingServer(): Promise<RecordingServer> {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((request, response) => {
    seen.push(request.headers);
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_recorded' });
      response.end(
        JSON.stringify({
          id: 'msg_recorded',
          type: 'message',
          role: 'assistant',
          model: 'claude-3-5-sonnet-latest',
          content: [{ type: 'text', text: 'recorded' }],
          stop_reason: 'end_turn',
          stop_sequence: null,
          usage: { input_tokens: 3, output_tokens: 1 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

let configured: RecordingServer;
/** Where ANTHROPIC_BASE_URL points during the tests: it must never be called. */
let elsewhere: RecordingServer;

beforeAll(async () => {
  [configured, elsewhere] = await Promise.all([startRecordingServer(), startRecordingServer()]);
});
afterAll(async () => {
  await Promise.all([configured.close(), elsewhere.close()]);
});
afterEach(() => {
  vi.unstubAllEnvs();
});

const settings: AdapterSettings = {
  id: 'anthropic',
  type: 'anthropic',
  baseUrl: undefined,
  apiKey: 'sk-ant-configured',
  timeoutMs: 5_000,
  options: {},
  paths: { modelsDir: 'models', dataDir: 'data' },
};

const call = () => ({ requestId: 'req_env', signal: new AbortController().signal, timeoutMs: 5_000 });

describe('anthropic adapter: nothing read from the environment', () => {
  it('sends the configured key as x-api-key and no Authorization, whatever ANTHROPIC_* says', async () => {
    vi.stubEnv('ANTHROPIC_AUTH_TOKEN', 'token-from-environment');
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-from-environment');
    vi.stubEnv('ANTHROPIC_BASE_URL', elsewhere.url);
    const adapter = createAnthropicAdapter({ ...settings, baseUrl: configured.url });
    const completion = await adapter.chat!({ model: 'claude-3-5-sonnet-latest', messages: [{ role: 'user', content: 'hello' }] }, call());
    expect(completion.choices[0].message.content).toBe('recorded');
    const headers = configured.seen.at(-1)!;
    expect(headers['x-api-key']).toBe('sk-ant-configured');
    expect(headers.authorization).toBeUndefined();
    expect(JSON.stringify(headers)).not.toMatch(/from-environment/);
    expect(elsewhere.seen).toHaveLength(0);
  });

  it('without a configured key there is no client at all: the call is rejected, nothing is sent', async () => {
    vi.stubEnv('ANTHROPIC_AUTH_TOKEN', 'token-from-environment');
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-from-environment');
    vi.stubEnv('ANTHROPIC_BASE_URL', elsewhere.url);
    const before = configured.seen.length;
    const adapter = createAnthropicAdapter({ ...settings, baseUrl: configured.url, apiKey: undefined });
    const failure = await adapter.chat!({ model: 'claude-3-5-sonnet-latest', messages: [{ role: 'user', content: 'hello' }] }, call()).catch((error) => error);
    expect(failure.kind).toBe('upstream-rejected');
    expect(configured.seen).toHaveLength(before);
    expect(elsewhere.seen).toHaveLength(0);
  });

  it('refuses an option it does not know, naming it', () => {
    expect(() => createAnthropicAdapter({ ...settings, options: { default_max_token: 10 } })).toThrow(/backends\.anthropic\.options\.default_max_token: /);
    expect(() => createAnthropicAdapter({ ...settings, options: { default_max_tokens: 0 } })).toThrow(/backends\.anthropic\.options\.default_max_tokens: /);
  });
});
