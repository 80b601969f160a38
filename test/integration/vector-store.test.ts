/**
 * The gateway's memory, for real: the local ONNX MiniLM model embeds through the gateway with the
 * official OpenAI client, `x-sluice-store: true` writes the rows into a PGlite database on disk,
 * and /v1/vector/search finds them again by a paraphrase, by metadata, and by raw vector.
 * The weights come from `make setup` (see local-embeddings.test.ts); without them this fails.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { buildGateway, type Gateway } from '../../src/gateway.js';
import { openStore, type SluiceStore } from '../../src/store/open-store.js';

const MODELS_DIR = process.env.SLUICE_MODELS_DIR ?? 'models';
const MODEL_DIR = join(MODELS_DIR, 'embeddings', 'all-MiniLM-L6-v2');
const MODEL = 'all-minilm-l6-v2';

/** One short document per topic; each query below paraphrases one of them without its key words. */
const DOCUMENTS: { topic: string; text: string }[] = [
  { topic: 'cooking', text: 'Knead the bread dough for ten minutes, then let it rise until doubled.' },
  { topic: 'astronomy', text: 'Jupiter is the largest planet in the solar system and has dozens of moons.' },
  { topic: 'finance', text: 'The central bank raised interest rates to bring inflation down.' },
  { topic: 'gardening', text: 'Tomato plants need full sun and regular watering to produce fruit.' },
  { topic: 'football', text: 'The striker scored twice in the second half to win the match.' },
  { topic: 'medicine', text: 'Antibiotics treat bacterial infections but do not work against viruses.' },
  { topic: 'programming', text: 'A null pointer exception happens when code dereferences a missing object.' },
  { topic: 'travel', text: 'Our flight to Tokyo was delayed six hours by a typhoon.' },
  { topic: 'music', text: 'The pianist performed a Chopin nocturne at the concert hall.' },
  { topic: 'pets', text: 'Cats groom themselves several times a day with their rough tongues.' },
  { topic: 'weather', text: 'A heavy snowstorm is expected to hit the northern region tonight.' },
  { topic: 'history', text: 'The Roman Empire built roads and aqueducts across Europe.' },
  { topic: 'fitness', text: 'Running three times a week strengthens the heart and lungs.' },
  { topic: 'cars', text: 'Electric vehicles need their batteries recharged at charging stations.' },
  { topic: 'education', text: 'The students are revising for their final mathematics exam.' },
  { topic: 'housing', text: 'Rent in the city centre has doubled over the past five years.' },
  { topic: 'chemistry', text: 'Water molecules consist of two hydrogen atoms bonded to one oxygen atom.' },
  { topic: 'security', text: 'Use a long unique password and enable two-factor authentication.' },
  { topic: 'ocean', text: 'Coral reefs are bleaching because the sea is getting warmer.' },
  { topic: 'art', text: 'The museum acquired an oil painting by Rembrandt at auction.' },
];

const PARAPHRASES: { query: string; topic: string }[] = [
  { query: 'How long should I work the yeast mixture by hand before proofing?', topic: 'cooking' },
  { query: 'Which gas giant is biggest among our neighbouring worlds?', topic: 'astronomy' },
  { query: 'Monetary policy tightened to fight rising prices', topic: 'finance' },
  { query: 'My laptop keeps saying an object reference was not set', topic: 'programming' },
  { query: 'How do I keep my accounts safe from hackers?', topic: 'security' },
];

let dataDir: string;

beforeAll(() => {
  if (!existsSync(join(MODEL_DIR, 'model.onnx'))) throw new Error(`${MODEL_DIR}/model.onnx is missing: run make setup (or the local-embeddings test, which converts it)`);
  dataDir = mkdtempSync(join(tmpdir(), 'sluice-vector-store-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function gatewayConfig(extraModels: Record<string, unknown>[] = []) {
  return parseConfig({
    server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
    paths: { data_dir: dataDir, models_dir: MODELS_DIR },
    backends: { 'local-embeddings': { type: 'onnx', requires_key: false, options: { model_dir: 'embeddings/all-MiniLM-L6-v2' } } },
    models: [{ id: MODEL, backend: 'local-embeddings', capabilities: ['embed'] }, ...extraModels],
  });
}

async function start(parts: Parameters<typeof buildGateway>[3]) {
  const gateway = buildGateway(gatewayConfig(), pino({ level: 'silent' }), undefined, parts);
  await gateway.ready;
  const server = await gateway.listen(0, '127.0.0.1');
  const { port } = server.address() as { port: number };
  const origin = `http://127.0.0.1:${port}`;
  return { gateway, origin, client: new OpenAI({ baseURL: `${origin}/v1`, apiKey: 'sk-local', maxRetries: 0 }) };
}

interface SearchResult {
  object: string;
  id: string;
  content: string;
  model: string | null;
  metadata: Record<string, unknown>;
  score: number;
}
interface SearchAnswer {
  object: string;
  data: SearchResult[];
  model: string | null;
  usage: { prompt_tokens: number; total_tokens: number };
}

describe('vector store through the gateway (real ONNX model, real PGlite)', () => {
  let store: SluiceStore;
  let gateway: Gateway;
  let origin: string;
  let client: OpenAI;

  const search = (body: unknown) =>
    fetch(`${origin}/v1/vector/search`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-local' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    store = await openStore({ dataDir: join(dataDir, 'db') });
    // The store as main.ts opens it: its ivfflat search must find rows in a table this small.
    const embeddings = store.embeddings;
    ({ gateway, origin, client } = await start({ inferenceLog: store.inferenceLog, store, embeddings }));
    for (const document of DOCUMENTS) {
      const { response } = await client.embeddings
        .create({ model: MODEL, input: document.text, encoding_format: 'float' }, { headers: { 'x-sluice-store': 'true', 'x-sluice-store-metadata': JSON.stringify({ topic: document.topic }) } })
        .withResponse();
      expect(response.headers.get('x-sluice-stored')).toBe('1');
    }
  }, 120_000);
  afterAll(() => gateway.close());

  it('answers the same OpenAI body with and without storing, and stores every text of a batch', async () => {
    const input = ['Storing must not change the answer.', 'Nor the second vector.'];
    const plain = await client.embeddings.create({ model: MODEL, input, encoding_format: 'float' }).withResponse();
    const stored = await client.embeddings
      .create({ model: MODEL, input, encoding_format: 'float' }, { headers: { 'x-sluice-store': 'true', 'x-sluice-store-metadata': '{"topic":"scratch"}' } })
      .withResponse();
    expect(stored.data).toEqual(plain.data);
    expect(plain.response.headers.get('x-sluice-stored')).toBeNull();
    expect(stored.response.headers.get('x-sluice-stored')).toBe('2');
    const scratch = (await (await search({ query: 'answer', filter: { topic: 'scratch' }, top_k: 10 })).json()) as SearchAnswer;
    expect(scratch.data.map((result) => result.content).sort()).toEqual([...input].sort());
  });

  it('finds the right document first for a paraphrased query', async () => {
    for (const { query, topic } of PARAPHRASES) {
      const response = await search({ query });
      expect(response.status).toBe(200);
      const answer = (await response.json()) as SearchAnswer;
      expect(answer.object).toBe('list');
      expect(answer.data).toHaveLength(5);
      expect(answer.data[0].metadata, query).toEqual({ topic });
      expect(answer.data[0]).toMatchObject({ object: 'vector_search_result', model: MODEL, content: DOCUMENTS.find((document) => document.topic === topic)!.text });
      expect(answer.data[0].score).toBeGreaterThan(answer.data[1].score);
      for (const [index, result] of answer.data.entries()) if (index > 0) expect(result.score).toBeLessThanOrEqual(answer.data[index - 1].score);
      expect(answer.model).toBe(MODEL);
      expect(answer.usage.prompt_tokens).toBeGreaterThan(0);
      expect(response.headers.get('x-sluice-route')).toBe('local');
      expect(response.headers.get('x-sluice-model')).toBe(MODEL);
      expect(response.headers.get('x-sluice-request-id')).toMatch(/^req_/);
    }
  });

  it('narrows the results with a metadata filter', async () => {
    const answer = (await (await search({ query: 'Tomato plants need full sun', filter: { topic: 'finance' }, top_k: 10 })).json()) as SearchAnswer;
    expect(answer.data).toHaveLength(1);
    expect(answer.data[0].metadata).toEqual({ topic: 'finance' });
    const none = (await (await search({ query: 'anything', filter: { topic: 'no-such-topic' } })).json()) as SearchAnswer;
    expect(none.data).toEqual([]);
  });

  it('searches by a raw 384-d vector, which costs no tokens', async () => {
    const [embedding] = (await client.embeddings.create({ model: MODEL, input: 'Coral reefs are bleaching because the sea is getting warmer.', encoding_format: 'float' })).data;
    const response = await search({ vector: embedding.embedding, top_k: 3 });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as SearchAnswer;
    expect(answer.data).toHaveLength(3);
    expect(answer.data[0].metadata).toEqual({ topic: 'ocean' });
    expect(answer.data[0].score).toBeCloseTo(1, 4);
    expect(answer.usage).toEqual({ prompt_tokens: 0, total_tokens: 0 });
  });

  it.each([
    { name: 'neither query nor vector', body: { top_k: 3 }, param: 'query' },
    { name: 'both query and vector', body: { query: 'x', vector: new Array(384).fill(0.01) }, param: 'vector' },
    { name: 'a 3-d vector', body: { vector: [0.1, 0.2, 0.3] }, param: 'vector' },
    { name: 'top_k 0', body: { query: 'x', top_k: 0 }, param: 'top_k' },
    { name: 'top_k 101', body: { query: 'x', top_k: 101 }, param: 'top_k' },
    { name: 'top_k 2.5', body: { query: 'x', top_k: 2.5 }, param: 'top_k' },
    { name: 'filter as an array', body: { query: 'x', filter: ['topic'] }, param: 'filter' },
    { name: 'an unknown field', body: { query: 'x', limit: 3 }, param: 'limit' },
    { name: 'an empty query', body: { query: '' }, param: 'query' },
    { name: 'an unknown model', body: { query: 'x', model: 'no-such-model' }, param: 'model', status: 404 },
  ])('refuses $name with 400 naming $param', async ({ body, param, status = 400 }) => {
    const response = await search(body);
    expect(response.status).toBe(status);
    const { error } = (await response.json()) as { error: { param: string; message: string } };
    expect(error.param).toBe(param);
    expect(error.message.length).toBeGreaterThan(10);
  });

  it('refuses a body that is not a JSON object', async () => {
    const response = await fetch(`${origin}/v1/vector/search`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-local' }, body: '[1,2]' });
    expect(response.status).toBe(400);
  });

  it('refuses store headers it cannot honour, naming the header or field', async () => {
    const attempt = (headers: Record<string, string>, input: string | number[][] = 'some text', extra: { dimensions?: number } = {}) =>
      client.embeddings.create({ model: MODEL, input, ...extra }, { headers }).then(
        () => undefined,
        (error: unknown) => error as InstanceType<typeof OpenAI.APIError>,
      );
    const badJson = await attempt({ 'x-sluice-store': 'true', 'x-sluice-store-metadata': '{topic:' });
    expect(badJson?.status).toBe(400);
    expect(badJson?.param).toBe('x-sluice-store-metadata');
    expect(badJson?.message).toMatch(/x-sluice-store-metadata.*JSON/);
    const notObject = await attempt({ 'x-sluice-store': 'true', 'x-sluice-store-metadata': '[1]' });
    expect(notObject?.param).toBe('x-sluice-store-metadata');
    const badFlag = await attempt({ 'x-sluice-store': 'yes' });
    expect(badFlag?.param).toBe('x-sluice-store');
    const tokens = await attempt({ 'x-sluice-store': 'true' }, [[101, 7592, 102]]);
    expect(tokens?.status).toBe(400);
    expect(tokens?.param).toBe('input');
    const shortened = await attempt({ 'x-sluice-store': 'true' }, 'some text', { dimensions: 128 });
    expect(shortened?.status).toBe(400);
    expect(shortened?.param).toBe('dimensions');
    expect(shortened?.message).toMatch(new RegExp(`384-dimensional.*'${MODEL}'`));
  });
});

describe('without a vector store', () => {
  let gateway: Gateway;
  let origin: string;
  let client: OpenAI;

  beforeAll(async () => {
    ({ gateway, origin, client } = await start({}));
  }, 60_000);
  afterAll(() => gateway.close());

  it('answers 503 to a search, with a clear message', async () => {
    const response = await fetch(`${origin}/v1/vector/search`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-local' }, body: JSON.stringify({ query: 'anything' }) });
    expect(response.status).toBe(503);
    const { error } = (await response.json()) as { error: { message: string; code: string } };
    expect(error.message).toMatch(/no vector store is configured/);
    expect(error.code).toBe('vector_store_unavailable');
  });

  it('answers 503 to x-sluice-store: true, and embeds as usual without it', async () => {
    const failure = await client.embeddings.create({ model: MODEL, input: 'x' }, { headers: { 'x-sluice-store': 'true' } }).catch((error: unknown) => error as InstanceType<typeof OpenAI.APIError>);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((failure as InstanceType<typeof OpenAI.APIError>).message).toMatch(/no vector store is configured/);
    const { data } = await client.embeddings.create({ model: MODEL, input: 'x', encoding_format: 'float' });
    expect(data[0].embedding).toHaveLength(384);
  });
});
