import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { buildGateway, type Gateway, type GatewayParts } from '../../src/gateway.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/fake-anthropic.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai.js';

export interface TestGateway {
  /** Base URL for OpenAI clients: `http://127.0.0.1:PORT/v1`. */
  baseURL: string;
  /** Origin without `/v1`, for /health, /admin, … */
  origin: string;
  apiKey: string;
  gateway: Gateway;
  config: Config;
  openai: FakeOpenAI;
  deepseek: FakeOpenAI;
  anthropic: FakeAnthropic;
  close(): Promise<void>;
}

const chatAll = ['chat', 'stream', 'tools', 'json', 'vision'];

/**
 * The model registry tests use: the plan's vendors on loopback fakes, plus models whose upstream
 * name selects a fake's failure scenario (see test/fakes).
 */
export function testModels() {
  return [
    { id: 'gpt-4o', backend: 'openai', capabilities: chatAll, price: { input_per_1m: 2.5, output_per_1m: 10, cached_input_per_1m: 1.25 } },
    { id: 'gpt-4o-mini', backend: 'openai', capabilities: chatAll, price: { input_per_1m: 0.15, output_per_1m: 0.6 } },
    { id: 'deepseek-chat', backend: 'deepseek', capabilities: ['chat', 'stream', 'tools', 'json'], price: { input_per_1m: 0.27, output_per_1m: 1.1 } },
    { id: 'claude-3-5-sonnet-latest', backend: 'anthropic', capabilities: chatAll, price: { input_per_1m: 3, output_per_1m: 15 } },
    { id: 'text-embedding-3-small', backend: 'openai', capabilities: ['embed'], price: { input_per_1m: 0.02, output_per_1m: 0 } },
    { id: 'whisper-1', backend: 'openai', capabilities: ['transcribe'], price: { input_per_1m: 0, output_per_1m: 0, audio_per_minute: 0.006 } },
    // Failure scenarios: the upstream name picks the fake's behaviour.
    { id: 'flaky-503', upstream_model: 'fake-503', backend: 'openai', capabilities: chatAll, fallback: ['deepseek-chat'] },
    { id: 'flaky-429', upstream_model: 'fake-429', backend: 'openai', capabilities: chatAll, fallback: ['claude-3-5-sonnet-latest'] },
    { id: 'only-429', upstream_model: 'fake-429', backend: 'openai', capabilities: chatAll },
    { id: 'only-503', upstream_model: 'fake-503', backend: 'openai', capabilities: chatAll },
    { id: 'only-400', upstream_model: 'fake-400', backend: 'openai', capabilities: chatAll, fallback: ['deepseek-chat'] },
    { id: 'bad-key', upstream_model: 'fake-401', backend: 'openai', capabilities: chatAll, fallback: ['deepseek-chat'] },
    { id: 'cut-stream', upstream_model: 'fake-cut-after-first-chunk', backend: 'openai', capabilities: chatAll, fallback: ['deepseek-chat'] },
    { id: 'stream-error', upstream_model: 'fake-stream-error', backend: 'openai', capabilities: chatAll },
    { id: 'empty-stream', upstream_model: 'fake-empty-stream', backend: 'openai', capabilities: chatAll, fallback: ['deepseek-chat'] },
    { id: 'no-usage', upstream_model: 'fake-no-usage', backend: 'openai', capabilities: chatAll, price: { input_per_1m: 1, output_per_1m: 2 } },
    { id: 'slow', upstream_model: 'fake-slow', backend: 'openai-impatient', capabilities: chatAll, fallback: ['gpt-4o-mini'] },
    { id: 'only-slow', upstream_model: 'fake-slow', backend: 'openai', capabilities: chatAll },
    { id: 'claude-429', upstream_model: 'fake-429', backend: 'anthropic', capabilities: chatAll, fallback: ['gpt-4o-mini'] },
    { id: 'down-then-429', upstream_model: 'fake-503', backend: 'openai', capabilities: chatAll, fallback: ['only-429'] },
    { id: 'trickle', upstream_model: 'fake-trickle', backend: 'openai', capabilities: chatAll, price: { input_per_1m: 2.5, output_per_1m: 10 } },
  ];
}

export async function startTestGateway(patch: (raw: Record<string, any>) => void = () => {}, parts: GatewayParts = {}): Promise<TestGateway> {
  const [openai, deepseek, anthropic] = await Promise.all([startFakeOpenAI(), startFakeOpenAI({ name: 'deepseek' }), startFakeAnthropic()]);
  const raw: Record<string, any> = {
    server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
    paths: { data_dir: mkdtempSync(join(tmpdir(), 'sluice-test-')) },
    backends: {
      openai: { type: 'openai', base_url: openai.url, api_key: openai.apiKey, timeout_ms: 10_000 },
      'openai-impatient': { type: 'openai', base_url: openai.url, api_key: openai.apiKey, timeout_ms: 300 },
      deepseek: { type: 'openai-compatible', base_url: deepseek.url, api_key: deepseek.apiKey },
      anthropic: { type: 'anthropic', base_url: anthropic.url, api_key: anthropic.apiKey },
    },
    models: testModels(),
    // Tests of routing, fallback and accounting send the same question many times and count the
    // vendor calls; the cache's own tests turn it on (response-cache.test.ts).
    cache: { enabled: false },
    routing: {
      auto_aliases: ['auto', 'gpt-3.5-turbo'],
      tiers: { simple: ['deepseek-chat', 'claude-3-5-sonnet-latest'], medium: ['deepseek-chat'], high: ['claude-3-5-sonnet-latest', 'gpt-4o'] },
    },
  };
  patch(raw);
  const config = parseConfig(raw);
  const gateway = buildGateway(config, pino({ level: 'silent' }), undefined, parts);
  const server = await gateway.listen(0, '127.0.0.1');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseURL: `${origin}/v1`,
    origin,
    apiKey: 'sk-test-anything',
    gateway,
    config,
    openai,
    deepseek,
    anthropic,
    async close() {
      await gateway.close();
      await Promise.all([openai.close(), deepseek.close(), anthropic.close()]);
    },
  };
}
