/**
 * The per-key moderation guardrail of chat (guardrails.moderation, a key's own `moderation`),
 * end to end: a tiny toxicity classifier (tiny-classifier.ts: "idiot", "stupid", "kill", "hate"
 * flag) moderates, the OpenAI fake answers `You said: <last user turn>`, so an answer repeats
 * what was asked and its verdict is known. Keys: one blocks flagged input, one routes it to
 * another model, one withholds flagged answers, one has no guardrail.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/auth/key-store.js';
import { parseConfig } from '../../src/config/load.js';
import { buildGateway, type Gateway } from '../../src/gateway.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai.js';
import { buildTinyClassifier, TINY_TOXICITY, TOKENIZER_DIR, VENV_PYTHON } from './tiny-classifier.js';

const KEYS = { block: 'sk-guard-block', route: 'sk-guard-route', output: 'sk-guard-output', plain: 'sk-guard-plain' } as const;
const FLAGGED = 'you stupid idiot, what time is it in Lisbon?';
const BENIGN = 'what time is it in Lisbon?';

let vendor: FakeOpenAI;
let modelsDir: string;
const gateways: Gateway[] = [];

async function startGateway(moderation: Record<string, unknown>, moderationModelDir = 'classifiers/tiny-toxicity'): Promise<string> {
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
    paths: { models_dir: modelsDir, data_dir: mkdtempSync(join(tmpdir(), 'sluice-guardrail-data-')) },
    auth: {
      keys: [
        { name: 'blocks', key_sha256: sha256Hex(KEYS.block), moderation: { input: 'block' } },
        { name: 'routes', key_sha256: sha256Hex(KEYS.route), moderation: { input: 'route', route_to: 'gpt-4o-mini' } },
        { name: 'withholds', key_sha256: sha256Hex(KEYS.output), moderation: { output: 'block' } },
        { name: 'plain', key_sha256: sha256Hex(KEYS.plain) },
      ],
    },
    backends: {
      openai: { type: 'openai', base_url: vendor.url, api_key: vendor.apiKey },
      toxicity: { type: 'onnx-classifier', requires_key: false, options: { threads: 1, max_batch: 8, batch_window_ms: 1, task: 'moderation', model_dir: moderationModelDir } },
    },
    models: [
      { id: 'gpt-4o', backend: 'openai', capabilities: ['chat', 'stream'], price: { input_per_1m: 2.5, output_per_1m: 10 } },
      { id: 'gpt-4o-mini', backend: 'openai', capabilities: ['chat', 'stream'], price: { input_per_1m: 0.15, output_per_1m: 0.6 } },
      { id: 'tiny-toxicity', backend: 'toxicity', capabilities: ['moderate'] },
    ],
    guardrails: { moderation },
    cache: { enabled: false },
  });
  const gateway = buildGateway(config, pino({ level: 'silent' }));
  gateways.push(gateway);
  const server = await gateway.listen(0, '127.0.0.1');
  await gateway.ready.catch(() => undefined); // a model without weights is reported, not fatal
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
}

const clientFor = (baseURL: string, key: string) => new OpenAI({ baseURL, apiKey: key, maxRetries: 0 });
const ask = (content: string) => ({ model: 'gpt-4o', messages: [{ role: 'user' as const, content }] });

beforeAll(async () => {
  for (const path of [VENV_PYTHON, join(TOKENIZER_DIR, 'tokenizer.json')]) if (!existsSync(path)) throw new Error(`${path} is missing: run make setup`);
  modelsDir = mkdtempSync(join(tmpdir(), 'sluice-guardrail-models-'));
  buildTinyClassifier(join(modelsDir, 'classifiers/tiny-toxicity'), TINY_TOXICITY);
  vendor = await startFakeOpenAI();
}, 120_000);

afterAll(async () => {
  await Promise.all(gateways.map((gateway) => gateway.close()));
  await vendor?.close();
});

describe('chat moderation per key', () => {
  let baseURL: string;
  beforeAll(async () => {
    baseURL = await startGateway({ on_error: 'allow' });
  }, 60_000);

  it('refuses flagged input with a 400 content_filter before any model sees it, and passes benign input', async () => {
    const client = clientFor(baseURL, KEYS.block);
    const before = vendor.calls('/v1/chat/completions');
    const refused = await client.chat.completions.create(ask(FLAGGED)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused).toMatchObject({ status: 400, code: 'content_filter', param: 'messages' });
    expect((refused as Error).message).toMatch(/flagged by moderation \(harassment\)/);
    await expect(client.chat.completions.create({ ...ask(FLAGGED), stream: true })).rejects.toMatchObject({ status: 400, code: 'content_filter' });
    expect(vendor.calls('/v1/chat/completions')).toBe(before);

    const answered = await client.chat.completions.create(ask(BENIGN));
    expect(answered.choices[0].message.content).toBe(`You said: ${BENIGN}`);
  });

  it('routes flagged input to the configured model and says why; benign input keeps its own model', async () => {
    const client = clientFor(baseURL, KEYS.route);
    const { data, response } = await client.chat.completions.create(ask(FLAGGED)).withResponse();
    expect(response.headers.get('x-sluice-model')).toBe('gpt-4o-mini');
    expect(vendor.requests.at(-1)?.body).toMatchObject({ model: 'gpt-4o-mini' });
    expect(data.choices[0].message.content).toBe(`You said: ${FLAGGED}`);
    expect(response.headers.get('x-sluice-route-reason')).toMatch(/guardrail:input-flagged\(harassment\)->gpt-4o-mini/);

    const plain = await client.chat.completions.create(ask(BENIGN)).withResponse();
    expect(plain.response.headers.get('x-sluice-model')).toBe('gpt-4o');
  });

  it('withholds a flagged answer as OpenAI does (finish_reason content_filter, no content), JSON and stream', async () => {
    const client = clientFor(baseURL, KEYS.output);
    const withheld = await client.chat.completions.create(ask(FLAGGED));
    expect(withheld.choices).toHaveLength(1);
    expect(withheld.choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { role: 'assistant', content: '' } });
    expect(JSON.stringify(withheld)).not.toMatch(/idiot/);

    const stream = await client.chat.completions.create({ ...ask(FLAGGED), stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(JSON.stringify(chunks)).not.toMatch(/idiot/);
    expect(chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.finish_reason)).filter(Boolean)).toEqual(['content_filter']);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBeGreaterThan(0); // the answer was produced, and is accounted

    const benign = await client.chat.completions.create({ ...ask(BENIGN), stream: true });
    let text = '';
    for await (const chunk of benign) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(`You said: ${BENIGN}`);
  });

  it('leaves a key without a guardrail alone', async () => {
    const answered = await clientFor(baseURL, KEYS.plain).chat.completions.create(ask(FLAGGED));
    expect(answered.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: `You said: ${FLAGGED}` } });
  });
});

describe('chat moderation when the moderation model cannot answer', () => {
  it('lets requests through with on_error: allow, and refuses them with 503 with on_error: block', async () => {
    const allowing = await startGateway({ on_error: 'allow' }, 'moderation/missing');
    const answered = await clientFor(allowing, KEYS.block).chat.completions.create(ask(FLAGGED));
    expect(answered.choices[0].message.content).toBe(`You said: ${FLAGGED}`);

    const blocking = await startGateway({ on_error: 'block' }, 'moderation/missing');
    const refused = await clientFor(blocking, KEYS.block).chat.completions.create(ask(BENIGN)).catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 503 });
    expect((refused as Error).message).toMatch(/moderation is required for this key and could not run/);
    const unguarded = await clientFor(blocking, KEYS.plain).chat.completions.create(ask(BENIGN));
    expect(unguarded.choices[0].message.content).toBe(`You said: ${BENIGN}`);
  }, 60_000);
});
