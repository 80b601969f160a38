/**
 * The OpenAI SDK fills every option it is not given from the environment: an operator's
 * OPENAI_ORG_ID, OPENAI_PROJECT_ID or OPENAI_ADMIN_KEY would otherwise reach every
 * OpenAI-compatible backend, DeepSeek included. The adapter sends only what its config entry says.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createOpenAICompatibleAdapter } from '../../../../adapters/openai-compatible/openai-compatible-adapter.js';
import type { Adapter, AdapterSettings, CallOptions } from '../../../../adapters/spec/index.js';
import { startFakeOpenAI, type FakeOpenAI, type RecordedRequest } from '../../../fakes/fake-openai.js';

let deepseek: FakeOpenAI;
/** Where OPENAI_BASE_URL points during the tests: it must never be called. */
let elsewhere: FakeOpenAI;

beforeAll(async () => {
  [deepseek, elsewhere] = await Promise.all([startFakeOpenAI({ name: 'deepseek' }), startFakeOpenAI()]);
});
afterAll(async () => {
  await Promise.all([deepseek.close(), elsewhere.close()]);
});
afterEach(() => {
  vi.unstubAllEnvs();
});

function settings(overrides: Partial<AdapterSettings> = {}): AdapterSettings {
  return {
    id: 'deepseek',
    type: 'openai-compatible',
    baseUrl: deepseek.url,
    apiKey: deepseek.apiKey,
    timeoutMs: 5_000,
    options: {},
    paths: { modelsDir: 'models', dataDir: 'data' },
    ...overrides,
  };
}

const call = (): CallOptions => ({ requestId: 'req_env', signal: new AbortController().signal, timeoutMs: 5_000 });

/** One chat through `adapter`, and the request the DeepSeek fake received for it. */
async function chatSeenByDeepseek(adapter: Adapter): Promise<RecordedRequest> {
  const before = deepseek.requests.length;
  const completion = await adapter.chat!({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'hello' }] }, call());
  expect(completion.choices[0].message.content).toBeTruthy();
  expect(deepseek.requests).toHaveLength(before + 1);
  return deepseek.requests.at(-1)!;
}

function stubOpenAIEnvironment(): void {
  vi.stubEnv('OPENAI_ORG_ID', 'org-from-environment');
  vi.stubEnv('OPENAI_PROJECT_ID', 'proj_from_environment');
  vi.stubEnv('OPENAI_ADMIN_KEY', 'sk-admin-from-environment');
  vi.stubEnv('OPENAI_API_KEY', 'sk-from-environment');
  vi.stubEnv('OPENAI_BASE_URL', elsewhere.url);
}

describe('openai-compatible adapter: nothing read from the environment', () => {
  it('sends no organization or project, and only its own key, whatever OPENAI_* says', async () => {
    stubOpenAIEnvironment();
    const seen = await chatSeenByDeepseek(createOpenAICompatibleAdapter(settings()));
    expect(seen.headers['openai-organization']).toBeUndefined();
    expect(seen.headers['openai-project']).toBeUndefined();
    expect(seen.headers.authorization).toBe(`Bearer ${deepseek.apiKey}`);
    expect(JSON.stringify(seen.headers)).not.toMatch(/from-environment|from_environment/);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('sends the organization and project its config entry names', async () => {
    stubOpenAIEnvironment();
    const adapter = createOpenAICompatibleAdapter(settings({ options: { organization: 'org-configured', project: 'proj_configured' } }));
    const seen = await chatSeenByDeepseek(adapter);
    expect(seen.headers['openai-organization']).toBe('org-configured');
    expect(seen.headers['openai-project']).toBe('proj_configured');
    expect(seen.headers.authorization).toBe(`Bearer ${deepseek.apiKey}`);
  });

  it('a keyless server gets a placeholder key, not OPENAI_API_KEY', async () => {
    stubOpenAIEnvironment();
    const keyless = await startFakeOpenAI({ apiKey: 'sluice-no-key' });
    try {
      const adapter = createOpenAICompatibleAdapter(settings({ baseUrl: keyless.url, apiKey: undefined }));
      await adapter.chat!({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] }, call());
      expect(keyless.requests.at(-1)!.headers.authorization).toBe('Bearer sluice-no-key');
    } finally {
      await keyless.close();
    }
  });
});

describe('openai-compatible adapter: options', () => {
  it('refuses an option it does not know, naming it (capabilities belong to the model entry)', () => {
    expect(() => createOpenAICompatibleAdapter(settings({ options: { capabilities: ['chat'] } }))).toThrow(
      /backends\.deepseek\.options\.capabilities: /,
    );
    expect(() => createOpenAICompatibleAdapter(settings({ options: { organization: '' } }))).toThrow(/backends\.deepseek\.options\.organization: /);
  });

  it('an openai-compatible backend without base_url is a config error, not a call to OpenAI', () => {
    stubOpenAIEnvironment();
    expect(() => createOpenAICompatibleAdapter(settings({ baseUrl: undefined }))).toThrow(/backends\.deepseek\.base_url: required/);
  });

  it('declares every capability its code implements, whatever the backend', () => {
    const adapter = createOpenAICompatibleAdapter(settings());
    expect([...adapter.capabilities].sort()).toEqual(['chat', 'embed', 'json', 'stream', 'tools', 'transcribe', 'vision']);
  });
});
