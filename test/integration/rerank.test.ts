/**
 * POST /v1/rerank end to end. The embedding scorer runs on the real all-MiniLM-L6-v2 over
 * hand-written sets (test/fixtures/rerank-sets.json: a query, 4–6 documents that share its
 * words or topic, one of them the answer). No ms-marco weights can be had here: the cross-encoder
 * path runs a tiny one built in the test with the real signature (tiny-cross-encoder.ts), and a
 * cross-encoder whose directory is empty must answer 503 model_weights_missing while the default
 * falls back to the embedding model.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { buildGateway, type Gateway } from '../../src/gateway.js';
import { openStore, type SluiceStore } from '../../src/store/open-store.js';
import { MODELS_DIR } from '../support/local-model-gateway.js';
import { TOKENIZER_DIR, VENV_PYTHON } from './tiny-classifier.js';
import { buildTinyCrossEncoder } from './tiny-cross-encoder.js';

interface RerankSet {
  domain: string;
  query: string;
  documents: string[];
  relevant: number;
}

const SETS = JSON.parse(readFileSync(new URL('../fixtures/rerank-sets.json', import.meta.url), 'utf8')) as RerankSet[];
const EMBEDDER = 'all-minilm-l6-v2';
const run = { threads: 1, batch_window_ms: 1 };

interface Running {
  gateway: Gateway;
  origin: string;
}

async function start(backends: Record<string, unknown>, models: Record<string, unknown>[], store?: SluiceStore): Promise<Running> {
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
    paths: { models_dir: MODELS_DIR, data_dir: mkdtempSync(join(tmpdir(), 'sluice-rerank-data-')) },
    backends,
    models,
  });
  const gateway = buildGateway(config, pino({ level: 'silent' }), undefined, store ? { inferenceLog: store.inferenceLog, store } : {});
  await gateway.ready;
  const server = await gateway.listen(0, '127.0.0.1');
  return { gateway, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

async function post(on: Running, body: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(`${on.origin}/v1/rerank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

/** The embedding model and a cross-encoder with no weights: the default is the embedding model. */
let embedding: Running;
/** A tiny cross-encoder with weights: the default is it. */
let crossEncoding: Running;
let store: SluiceStore;

beforeAll(async () => {
  for (const path of [VENV_PYTHON, join(TOKENIZER_DIR, 'tokenizer.json'), join(MODELS_DIR, 'embeddings/all-MiniLM-L6-v2/model.onnx')]) {
    if (!existsSync(path)) throw new Error(`${path} is missing: run make setup`);
  }
  const emptyDir = mkdtempSync(join(tmpdir(), 'sluice-rerank-empty-'));
  const tinyDir = join(mkdtempSync(join(tmpdir(), 'sluice-rerank-tiny-')), 'tiny-cross');
  buildTinyCrossEncoder(tinyDir, { query: { boost: 2 }, document: { relevant: 3, noise: -3 } });
  store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'sluice-rerank-store-')), inferenceLog: { flushIntervalMs: 20 } });
  embedding = await start(
    {
      // A vendor embedder, listed first: never the default reranker, and refused when named. Never called.
      openai: { type: 'openai', base_url: 'http://127.0.0.1:9/v1', api_key: 'sk-unused' },
      'local-embeddings': { type: 'onnx', requires_key: false, options: { ...run, model_dir: 'embeddings/all-MiniLM-L6-v2' } },
      'no-weights': { type: 'onnx-classifier', requires_key: false, options: { task: 'rerank', model_dir: emptyDir, model_file: 'onnx/model_quantized.onnx', pull: 'Xenova/ms-marco-MiniLM-L-6-v2 config.json tokenizer.json tokenizer_config.json onnx/model_quantized.onnx' } },
    },
    [
      { id: 'ms-marco-minilm-l6-v2', backend: 'no-weights', capabilities: ['rerank'] },
      { id: 'text-embedding-3-small', backend: 'openai', capabilities: ['embed'] },
      { id: EMBEDDER, backend: 'local-embeddings', capabilities: ['embed'] },
    ],
    store,
  );
  crossEncoding = await start(
    { tiny: { type: 'onnx-classifier', requires_key: false, options: { ...run, task: 'rerank', model_dir: tinyDir } } },
    [{ id: 'tiny-cross', backend: 'tiny', capabilities: ['rerank'] }],
  );
}, 120_000);

afterAll(async () => {
  await embedding?.gateway.close();
  await crossEncoding?.gateway.close();
  await store?.close();
});

describe('POST /v1/rerank with the embedding model', () => {
  it(`ranks the relevant document first on at least 20 of the ${SETS.length} hand-written sets`, async () => {
    expect(SETS.length).toBeGreaterThanOrEqual(24);
    const misses: string[] = [];
    for (const set of SETS) {
      const { status, body } = await post(embedding, { model: 'rerank-english-v3.0', query: set.query, documents: set.documents });
      expect(status).toBe(200);
      expect(body.results).toHaveLength(set.documents.length);
      if (body.results[0].index !== set.relevant) misses.push(`${set.domain}: "${set.query}" → document ${body.results[0].index}`);
    }
    const hits = SETS.length - misses.length;
    console.log(`rerank (all-minilm-l6-v2 cosine): relevant first on ${hits}/${SETS.length} sets${misses.length ? `; missed: ${misses.join(' | ')}` : ''}`);
    expect(hits).toBeGreaterThanOrEqual(20);
  });

  it('answers the Cohere shape, sorted best first, with the headers and one log row', async () => {
    const set = SETS[0];
    const { status, body, headers } = await post(embedding, { query: set.query, documents: set.documents });
    expect(status).toBe(200);
    expect(body).toEqual({
      id: expect.stringMatching(/^rerank-[0-9a-f]{32}$/),
      model: EMBEDDER,
      results: expect.any(Array),
      usage: { prompt_tokens: expect.any(Number), total_tokens: expect.any(Number) },
      meta: { billed_units: { search_units: 1 } },
    });
    expect(body.usage.prompt_tokens).toBeGreaterThan(set.query.split(' ').length);
    const scores = body.results.map((result: { relevance_score: number }) => result.relevance_score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    for (const result of body.results) {
      expect(Object.keys(result).sort()).toEqual(['index', 'relevance_score']);
      expect(result.relevance_score).toBeGreaterThanOrEqual(0);
      expect(result.relevance_score).toBeLessThanOrEqual(1);
    }
    expect(new Set(body.results.map((result: { index: number }) => result.index)).size).toBe(set.documents.length);
    expect(headers.get('x-sluice-model')).toBe(EMBEDDER);
    expect(headers.get('x-sluice-route')).toBe('local');
    expect(headers.get('x-sluice-cost-usd')).toBe('0');
    const requestId = headers.get('x-sluice-request-id')!;
    const rows = await vi.waitFor(
      async () => {
        await store.inferenceLog.flush();
        const { rows } = await store.database.query<{ attempt: number; model_id: string; outcome: string; input_text: string }>(
          'select attempt, model_id, outcome, input_text from model_inferences where request_id = $1',
          [requestId],
        );
        expect(rows).toHaveLength(1);
        return rows;
      },
      { timeout: 5_000, interval: 50 },
    );
    expect(rows[0]).toMatchObject({ attempt: 1, model_id: EMBEDDER, outcome: 'answered' });
    expect(rows[0].input_text).toContain(set.query);
  });

  it("matches the response schema of the gateway's own /openapi.json", async () => {
    const document = (await (await fetch(`${embedding.origin}/openapi.json`)).json()) as any;
    const validate = new Ajv({ strict: false }).compile(document.paths['/v1/rerank'].post.responses[200].content['application/json'].schema);
    for (const body of [
      { query: SETS[2].query, documents: SETS[2].documents, return_documents: true, top_n: 3 },
      { query: SETS[2].query, documents: SETS[2].documents.map((text) => ({ text })) },
    ]) {
      const answer = await post(embedding, body);
      expect(answer.status).toBe(200);
      expect(validate(answer.body), JSON.stringify(validate.errors)).toBe(true);
    }
    expect(validate({ id: 'rerank-x', model: 'm', results: [{ index: 0, relevance_score: 1.5 }], usage: { prompt_tokens: 1, total_tokens: 1 }, meta: { billed_units: { search_units: 1 } } })).toBe(false);
  });

  it('answers the same request the same way twice', async () => {
    const set = SETS[5];
    const first = await post(embedding, { query: set.query, documents: set.documents, return_documents: true });
    const second = await post(embedding, { query: set.query, documents: set.documents, return_documents: true });
    expect(second.body.results).toEqual(first.body.results);
  });

  it('orders equal scores by document order', async () => {
    const { body } = await post(embedding, { query: 'How do I reset my password?', documents: ['same text', 'other text here', 'same text', 'same text'] });
    const same = body.results.filter((result: { index: number }) => result.index !== 1).map((result: { index: number }) => result.index);
    expect(same).toEqual([0, 2, 3]);
  });

  it('cuts to top_n and returns document texts only when asked', async () => {
    const set = SETS[1];
    const all = await post(embedding, { query: set.query, documents: set.documents });
    const top = await post(embedding, { query: set.query, documents: set.documents, top_n: 2, return_documents: true });
    expect(top.body.results).toHaveLength(2);
    expect(top.body.results.map((result: { index: number }) => result.index)).toEqual(all.body.results.slice(0, 2).map((result: { index: number }) => result.index));
    for (const result of top.body.results) expect(result.document).toEqual({ text: set.documents[result.index] });
    expect(all.body.results.every((result: object) => !('document' in result))).toBe(true);
    const more = await post(embedding, { query: set.query, documents: set.documents, top_n: 50 });
    expect(more.body.results).toHaveLength(set.documents.length);
  });

  it('ranks object documents on their text, or on the rank_fields joined', async () => {
    const set = SETS[4];
    const asObjects = await post(embedding, { query: set.query, documents: set.documents.map((text) => ({ text, id: 'ignored' })) });
    const asStrings = await post(embedding, { query: set.query, documents: set.documents });
    expect(asObjects.body.results).toEqual(asStrings.body.results);
    const fields = await post(embedding, {
      query: set.query,
      rank_fields: ['title', 'body'],
      return_documents: true,
      documents: set.documents.map((text, index) => ({ title: `Note ${index}`, body: text })),
    });
    expect(fields.status).toBe(200);
    expect(fields.body.results[0].index).toBe(set.relevant);
    expect(fields.body.results[0].document).toEqual({ text: `Note ${set.relevant}\n${set.documents[set.relevant]}` });
  });

  const longText = 'word '.repeat(9000);
  it.each([
    ['no documents', { query: 'q', documents: [] }, 'documents'],
    ['a query that is not a string', { query: 42, documents: ['a'] }, 'query'],
    ['no query', { documents: ['a'] }, 'query'],
    ['top_n below 1', { query: 'q', documents: ['a'], top_n: 0 }, 'top_n'],
    ['a fractional top_n', { query: 'q', documents: ['a'], top_n: 1.5 }, 'top_n'],
    ['more than 1000 documents', { query: 'q', documents: Array.from({ length: 1001 }, () => 'a') }, 'documents'],
    ['a document that is a number', { query: 'q', documents: ['a', 7] }, 'documents[1]'],
    ['an object document without text', { query: 'q', documents: [{ title: 'a' }] }, 'documents[0].text'],
    ['a rank field that is not a string', { query: 'q', rank_fields: ['title'], documents: [{ title: 3 }] }, 'documents[0].title'],
    ['an unknown field', { query: 'q', documents: ['a'], max_tokens: 3 }, 'max_tokens'],
    ['a document past the embedding limit', { query: 'q', documents: ['short', longText] }, 'documents'],
    ['a query past the embedding limit', { query: longText, documents: ['short'] }, 'query'],
    ['a model that cannot rerank', { model: 'text-embedding-3-small', query: 'q', documents: ['a'] }, 'model'],
    ['return_documents that is not a boolean', { query: 'q', documents: ['a'], return_documents: 'yes' }, 'return_documents'],
  ])('refuses %s with an OpenAI-style 400', async (_case, body, param) => {
    const { status, body: answer } = await post(embedding, body);
    expect(status).toBe(400);
    expect(answer.error).toMatchObject({ type: 'invalid_request_error', param });
    expect(answer.error.message.length).toBeGreaterThan(10);
  });

  it('answers 503 model_weights_missing for the cross-encoder without its weights, naming the file and the pull command', async () => {
    const { status, body, headers } = await post(embedding, { model: 'ms-marco-minilm-l6-v2', query: 'q', documents: ['a'] });
    expect(status).toBe(503);
    expect(body.error.code).toBe('model_weights_missing');
    expect(body.error.message).toContain('onnx/model_quantized.onnx');
    expect(body.error.message).toContain('sluice models pull Xenova/ms-marco-MiniLM-L-6-v2');
    expect(headers.get('x-sluice-request-id')).toMatch(/^req_/);
  });

  it('lists the rerank model in GET /v1/models as local', async () => {
    const response = await fetch(`${embedding.origin}/v1/models`);
    const { data } = (await response.json()) as { data: { id: string; owned_by: string; sluice: { capabilities: string[] } }[] };
    expect(data.find((model) => model.id === 'ms-marco-minilm-l6-v2')).toMatchObject({ owned_by: 'local', sluice: { capabilities: ['rerank'] } });
  });
});

describe('POST /v1/rerank with a cross-encoder', () => {
  const documents = ['plain words here', 'a relevant passage', 'noise and more noise', 'relevant and relevant again'];

  it('is the default when its weights are present, and reads each (query, document) pair', async () => {
    const { status, body, headers } = await post(crossEncoding, { model: 'rerank-english-v3.0', query: 'which passage', documents });
    expect(status).toBe(200);
    expect(body.model).toBe('tiny-cross');
    expect(headers.get('x-sluice-model')).toBe('tiny-cross');
    // Document weights count only in the second segment: relevant ×2 = 6, relevant = 3, none = 0, noise ×2 = −6.
    expect(body.results.map((result: { index: number }) => result.index)).toEqual([3, 1, 0, 2]);
    const sigmoid = (logit: number) => 1 / (1 + Math.exp(-logit));
    expect(body.results.map((result: { relevance_score: number }) => result.relevance_score)).toEqual([sigmoid(6), sigmoid(3), sigmoid(0), sigmoid(-6)].map((score) => expect.closeTo(score, 5)));
  });

  it("moves every score with the query's own words, which only count in the first segment", async () => {
    const plain = await post(crossEncoding, { query: 'which passage', documents: ['plain words here'] });
    const boosted = await post(crossEncoding, { query: 'boost which passage', documents: ['plain words here'] });
    const boostInDocument = await post(crossEncoding, { query: 'which passage', documents: ['plain words here boost'] });
    expect(plain.body.results[0].relevance_score).toBeCloseTo(0.5, 5);
    expect(boosted.body.results[0].relevance_score).toBeCloseTo(1 / (1 + Math.exp(-2)), 5);
    expect(boostInDocument.body.results[0].relevance_score).toBeCloseTo(0.5, 5);
  });

  it("refuses a document past the cross-encoder's input limit, naming documents", async () => {
    const { status, body } = await post(crossEncoding, { query: 'which', documents: ['short', 'word '.repeat(9000)] });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'documents' });
    expect(body.error.message).toMatch(/^documents: Input 1 is too long/);
  });

  it('batches many pairs of different lengths without mixing them up', async () => {
    const many = Array.from({ length: 40 }, (_, index) => (index % 4 === 0 ? `relevant ${'filler '.repeat(index)}` : `filler ${'words '.repeat(index)}`));
    const { body } = await post(crossEncoding, { query: 'which', documents: many, top_n: 10 });
    expect(body.results.map((result: { index: number }) => result.index)).toEqual([0, 4, 8, 12, 16, 20, 24, 28, 32, 36]);
  });
});
