/**
 * POST /v1/moderations and POST /v1/classifications/sentiment end to end, on local ONNX
 * classifiers run by the shared loader. No toxicity or SST-2 weights are obtainable on these
 * machines, so the models are tiny bag-of-words classifiers built here with a real classifier's
 * signature (tiny-classifier.ts); which words they react to is chosen, so the verdicts are known.
 * A third model has no weights at all: it must answer 503 `model_weights_missing`, and the
 * gateway must still be ready and serve the others.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODERATION_CATEGORIES } from '../../adapters/spec/index.js';
import { parseConfig } from '../../src/config/load.js';
import { buildGateway, type Gateway } from '../../src/gateway.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai.js';
import { buildTinyClassifier, TINY_SENTIMENT, TINY_TOXICITY, TOKENIZER_DIR, VENV_PYTHON } from './tiny-classifier.js';

const classifierOptions = { threads: 1, max_batch: 8, batch_window_ms: 1 };

let gateway: Gateway;
let origin: string;
let client: OpenAI;
let modelsDir: string;
let vendor: FakeOpenAI;

beforeAll(async () => {
  for (const path of [VENV_PYTHON, join(TOKENIZER_DIR, 'tokenizer.json')]) if (!existsSync(path)) throw new Error(`${path} is missing: run make setup`);
  modelsDir = mkdtempSync(join(tmpdir(), 'sluice-classifiers-'));
  buildTinyClassifier(join(modelsDir, 'classifiers/tiny-toxicity'), TINY_TOXICITY);
  buildTinyClassifier(join(modelsDir, 'classifiers/tiny-sentiment'), TINY_SENTIMENT);
  vendor = await startFakeOpenAI();
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
    paths: { models_dir: modelsDir, data_dir: mkdtempSync(join(tmpdir(), 'sluice-classifiers-data-')) },
    backends: {
      openai: { type: 'openai', base_url: vendor.url, api_key: vendor.apiKey },
      toxicity: { type: 'onnx-classifier', requires_key: false, options: { ...classifierOptions, task: 'moderation', model_dir: 'classifiers/tiny-toxicity' } },
      sentiment: { type: 'onnx-classifier', requires_key: false, options: { ...classifierOptions, task: 'sentiment', model_dir: 'classifiers/tiny-sentiment' } },
      'no-weights': {
        type: 'onnx-classifier',
        requires_key: false,
        options: { task: 'moderation', model_dir: 'moderation/toxic-bert', model_file: 'onnx/model_quantized.onnx', pull: 'Xenova/toxic-bert config.json tokenizer.json onnx/model_quantized.onnx' },
      },
    },
    models: [
      { id: 'tiny-toxicity', backend: 'toxicity', capabilities: ['moderate'] },
      { id: 'tiny-sentiment', backend: 'sentiment', capabilities: ['classify'] },
      { id: 'toxic-bert', backend: 'no-weights', capabilities: ['moderate'] },
    ],
  });
  gateway = buildGateway(config, pino({ level: 'silent' }));
  const server = await gateway.listen(0, '127.0.0.1');
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  client = new OpenAI({ baseURL: `${origin}/v1`, apiKey: 'unused', maxRetries: 0 });
  await gateway.ready;
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await vendor?.close();
});

async function post(path: string, body: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(`${origin}/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

const flaggedCategories = (result: { categories: object }) =>
  Object.entries(result.categories)
    .filter(([, isFlagged]) => isFlagged)
    .map(([category]) => category)
    .sort();

describe('POST /v1/moderations', () => {
  it('flags clearly toxic text and passes benign text, in the exact OpenAI shape', async () => {
    const { status, body, headers } = await post('/moderations', { model: 'tiny-toxicity', input: ['You are a stupid idiot.', 'Thank you for the lovely dinner last night.'] });
    expect(status).toBe(200);
    expect(headers.get('x-sluice-route')).toBe('local');
    expect(Object.keys(body).sort()).toEqual(['id', 'model', 'results']);
    expect(body.id).toMatch(/^modr-[0-9a-f]{32}$/);
    expect(body.model).toBe('tiny-toxicity');
    expect(body.results).toHaveLength(2);
    for (const result of body.results) {
      expect(Object.keys(result).sort()).toEqual(['categories', 'category_applied_input_types', 'category_scores', 'flagged']);
      expect(Object.keys(result.categories).sort()).toEqual([...MODERATION_CATEGORIES].sort());
      expect(result.category_applied_input_types).toEqual(Object.fromEntries(MODERATION_CATEGORIES.map((category) => [category, ['text']])));
      expect(Object.keys(result.category_scores).sort()).toEqual([...MODERATION_CATEGORIES].sort());
      for (const category of MODERATION_CATEGORIES) {
        expect(typeof result.categories[category]).toBe('boolean');
        expect(result.category_scores[category]).toBeGreaterThanOrEqual(0);
        expect(result.category_scores[category]).toBeLessThanOrEqual(1);
      }
    }
    const [toxic, benign] = body.results;
    expect(toxic.flagged).toBe(true);
    expect(flaggedCategories(toxic)).toEqual(['harassment']);
    expect(toxic.category_scores.harassment).toBeGreaterThan(0.9);
    expect(benign.flagged).toBe(false);
    expect(flaggedCategories(benign)).toEqual([]);
    expect(benign.category_scores.harassment).toBeLessThan(0.1);
  });

  it('maps each label to its categories: a threat is threatening harassment and violence, a slur is hate', async () => {
    const moderation = await client.moderations.create({ model: 'tiny-toxicity', input: ['I will kill you', 'I hate people like them'] });
    expect(moderation.model).toBe('tiny-toxicity');
    expect(flaggedCategories(moderation.results[0])).toEqual(['harassment', 'harassment/threatening', 'violence']);
    expect(flaggedCategories(moderation.results[1])).toEqual(['harassment', 'hate']);
  });

  it('keeps inputs in order through shared, padded batches of mixed lengths', async () => {
    const benign = 'the weather in the harbour was calm and the boats came home early in the evening';
    const inputs = Array.from({ length: 30 }, (_, index) => (index % 3 === 0 ? `idiot ${index}` : `${benign} ${index}`));
    const [whole, ...singles] = await Promise.all([
      client.moderations.create({ model: 'tiny-toxicity', input: inputs }),
      ...inputs.slice(0, 6).map((input) => client.moderations.create({ model: 'tiny-toxicity', input })),
    ]);
    expect(whole.results.map((result) => result.flagged)).toEqual(inputs.map((_, index) => index % 3 === 0));
    singles.forEach((single, index) => expect(single.results[0].category_scores.harassment).toBeCloseTo(whole.results[index].category_scores.harassment, 5));
  });

  it('reads a long input whole: harm after the model’s 512 tokens is still flagged', async () => {
    const calm = 'the harbour was calm and the boats came home early. '.repeat(300); // ~3,300 tokens
    const moderation = await client.moderations.create({ model: 'tiny-toxicity', input: [`${calm}you stupid idiot`, calm, `you idiot ${calm}`] });
    expect(moderation.results.map((result) => result.flagged)).toEqual([true, false, true]);
  });

  it('leaves a model it does not know (OpenAI’s own) to the vendor, through the passthrough', async () => {
    const before = vendor.calls('/v1/moderations');
    const { data, response } = await client.moderations.create({ model: 'omni-moderation-latest', input: 'hello' }).withResponse();
    expect(response.headers.get('x-sluice-route')).toBe('openai');
    expect(data.results).toHaveLength(1);
    expect(vendor.calls('/v1/moderations')).toBe(before + 1);
  });

  it('uses the first configured moderation model when none is named', async () => {
    const { status, body } = await post('/moderations', { input: 'what an idiot' });
    expect(status).toBe(200);
    expect(body.model).toBe('tiny-toxicity');
    expect(body.results[0].flagged).toBe(true);
  });

  it.each([
    ['no input', { model: 'tiny-toxicity' }, 'input'],
    ['an empty array', { model: 'tiny-toxicity', input: [] }, 'input'],
    ['a number', { model: 'tiny-toxicity', input: 42 }, 'input'],
    ['an unknown field', { model: 'tiny-toxicity', input: 'hi', stream: true }, 'stream'],
    ['a sentiment model', { model: 'tiny-sentiment', input: 'hi' }, 'model'],
  ])('refuses %s with a 400 naming the field', async (_case, request, param) => {
    const { status, body } = await post('/moderations', request);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param });
  });
});

describe('POST /v1/classifications/sentiment', () => {
  it('labels hand-written positives positive and negatives negative, one entry per input in order', async () => {
    const positives = ['What a wonderful film, I love it.', 'The service was excellent and the food great.'];
    const negatives = ['That was a terrible, awful evening.', 'I hate this bad phone.'];
    const { status, body, headers } = await post('/classifications/sentiment', { model: 'tiny-sentiment', input: [...positives, ...negatives] });
    expect(status).toBe(200);
    expect(headers.get('x-sluice-model')).toBe('tiny-sentiment');
    expect(Object.keys(body).sort()).toEqual(['data', 'model', 'object', 'usage']);
    expect(body.data.map((entry: { index: number }) => entry.index)).toEqual([0, 1, 2, 3]);
    expect(body.data.map((entry: { label: string }) => entry.label)).toEqual(['positive', 'positive', 'negative', 'negative']);
    for (const entry of body.data) {
      expect(entry.score).toBeGreaterThan(0.9);
      expect(entry.scores.positive + entry.scores.negative).toBeCloseTo(1, 5);
      expect(entry.score).toBe(entry.scores[entry.label]);
    }
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('takes a single string and the default sentiment model', async () => {
    const { status, body } = await post('/classifications/sentiment', { input: 'great' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ object: 'list', model: 'tiny-sentiment', data: [{ object: 'sentiment', index: 0, label: 'positive' }] });
  });
});

describe('a model whose weights are missing', () => {
  it('answers 503 model_weights_missing naming the file and the pull command, and the gateway stays ready', async () => {
    const { status, body } = await post('/moderations', { model: 'toxic-bert', input: 'hello' });
    expect(status).toBe(503);
    expect(body.error.code).toBe('model_weights_missing');
    expect(body.error.message).toContain(join(modelsDir, 'moderation/toxic-bert/onnx/model_quantized.onnx'));
    expect(body.error.message).toContain('sluice models pull Xenova/toxic-bert config.json tokenizer.json onnx/model_quantized.onnx --dest moderation/toxic-bert');
    const ready = await fetch(`${origin}/ready`);
    expect(ready.status).toBe(200);
    const again = await client.moderations.create({ model: 'tiny-toxicity', input: 'fine words' });
    expect(again.results[0].flagged).toBe(false);
  });

  it('is still listed in GET /v1/models as local, with the working ones', async () => {
    const models = (await client.models.list()).data as unknown as { id: string; owned_by: string }[];
    for (const id of ['tiny-toxicity', 'tiny-sentiment', 'toxic-bert']) expect(models.find((model) => model.id === id)).toMatchObject({ owned_by: 'local' });
  });
});
