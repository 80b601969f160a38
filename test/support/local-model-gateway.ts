/**
 * A gateway on loopback with the real local chat model (SmolLM2-135M on llama.cpp, one slot) and
 * a fake OpenAI vendor: what the routing, budget, escalation and shadow tests start. Each test
 * names the vendor models, the routing and whatever config it is about; the rest is shared.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OpenAI from 'openai';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { buildGateway, type Gateway } from '../../src/gateway.js';
import { openStore, type SluiceStore } from '../../src/store/open-store.js';
import type { FakeOpenAI } from '../fakes/fake-openai.js';

export const MODELS_DIR = resolve(process.env.SLUICE_MODELS_DIR ?? 'models');
export const SMOLLM_FILE = 'chat/smollm2-135m-instruct-q4_1.gguf';
/** The local model's id in the config these gateways get. */
export const LOCAL = 'smollm2-135m-instruct';

export interface LocalModelGateway {
  gateway: Gateway;
  client: OpenAI;
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** The real PGlite store and its inference log, when asked for. */
  store?: SluiceStore;
}

export interface LocalModelGatewayOptions {
  vendor: FakeOpenAI;
  /** The vendor's models (backend `openai`); the local model is added after them. */
  vendorModels: readonly Record<string, unknown>[];
  /** More llama.cpp options (e.g. `default_max_tokens`). */
  localOptions?: Record<string, unknown>;
  /** The rest of the config: routing, budget, targets, learning… The cache is off unless given. */
  config?: Record<string, unknown>;
  /** Open a real store (PGlite under the data dir) and log every attempt to it. */
  withStore?: boolean;
  dataDirPrefix?: string;
}

/** Fails the test run with the way to get the weights, rather than skipping. */
export function requireLocalModel(): void {
  if (!existsSync(join(MODELS_DIR, SMOLLM_FILE))) throw new Error(`no ${SMOLLM_FILE} under ${MODELS_DIR}: run make setup`);
}

export async function startLocalModelGateway(options: LocalModelGatewayOptions): Promise<LocalModelGateway> {
  requireLocalModel();
  const dataDir = mkdtempSync(join(tmpdir(), options.dataDirPrefix ?? 'sluice-local-model-'));
  const store = options.withStore ? await openStore({ dataDir, inferenceLog: { flushIntervalMs: 20 } }) : undefined;
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
    paths: { models_dir: MODELS_DIR, data_dir: dataDir },
    backends: {
      openai: { type: 'openai', base_url: options.vendor.url, api_key: options.vendor.apiKey },
      local: { type: 'llama-cpp', requires_key: false, options: { model: SMOLLM_FILE, parallel: 1, context_size: 1024, ...options.localOptions } },
    },
    models: [...options.vendorModels.map((model) => ({ backend: 'openai', ...model })), { id: LOCAL, backend: 'local', capabilities: ['chat', 'stream'] }],
    cache: { enabled: false }, // the tests count vendor calls on repeated questions
    ...options.config,
  });
  const gateway = buildGateway(config, pino({ level: 'silent' }), undefined, store ? { inferenceLog: store.inferenceLog, store } : {});
  await gateway.ready;
  const server = await gateway.listen(0, '127.0.0.1');
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { gateway, origin, store, client: new OpenAI({ baseURL: `${origin}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 120_000 }) };
}
