import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BatchedInferenceLog, type BatchedInferenceLogOptions } from '../../src/store/batched-inference-log.js';
import { SqlEmbeddingStore } from '../../src/store/embedding-store.js';
import { toLoggedInference } from '../../src/store/inference-log.js';
import { openStore } from '../../src/store/open-store.js';
import {
  createSupabaseStoreClient,
  SupabaseEmbeddingStore,
  SupabaseRowSink,
  SupabaseStoreError,
} from '../../src/store/supabase-store.js';
import { startFakePostgrest, type FakePostgrest } from '../fakes/fake-postgrest.js';

let fake: FakePostgrest;
let directory: string;
let spillPath: string;

beforeAll(async () => {
  fake = await startFakePostgrest();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'sluice-supabase-'));
  spillPath = join(directory, 'inference-log.spill.jsonl');
  fake.setUnavailable(false);
  fake.requests.length = 0;
  await fake.database.exec('truncate model_inferences; truncate embeddings');
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const client = () => createSupabaseStoreClient({ url: fake.url, serviceRoleKey: fake.key });

async function countRows() {
  const result = await fake.database.query<{ total: number; distinct_requests: number }>(
    'select count(*)::int as total, count(distinct request_id)::int as distinct_requests from model_inferences',
  );
  return { total: result.rows[0].total, distinct: result.rows[0].distinct_requests };
}

const row = (index: number) => ({
  requestId: `req-${index}`,
  modelId: 'local-qwen',
  inputText: `question ${index}`,
  output: `answer ${index}`,
  costUsd: 0.00012345,
  latencyMs: index,
  tier: 'simple',
});

function logOptions(sink: SupabaseRowSink): BatchedInferenceLogOptions {
  return { sink, spillPath, batchMaxRows: 50, flushIntervalMs: 20, retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 40 } };
}

describe('SupabaseRowSink through BatchedInferenceLog', () => {
  it('lands rows in model_inferences with the migration columns; a replay is ignored, not duplicated', async () => {
    const sink = new SupabaseRowSink(client());
    const log = await BatchedInferenceLog.open(logOptions(sink));
    const createdAt = new Date('2026-01-02T03:04:05.678Z');
    log.append({
      requestId: 'req-full',
      attempt: 2,
      modelId: 'deepseek-v3',
      inputText: 'hello',
      output: 'world',
      qualityScore: 0.875,
      costUsd: 0.00012345,
      latencyMs: 412,
      routingReason: 'tier=medium',
      createdAt,
      tenant: 'acme',
      tier: 'medium',
      route: 'deepseek',
      cacheStatus: 'miss',
      promptTokens: 12,
      completionTokens: 34,
      escalatedFrom: 'local-qwen',
      error: 'none',
      isEstimated: true,
    });
    for (let index = 0; index < 120; index += 1) log.append(row(index));
    await log.close();
    expect(log.pending).toMatchObject({ queued: 0, spilled: 0, written: 121 });

    const stored = await fake.database.query(
      `select request_id, attempt, model_id, input_text, output, quality_score, cost::text as cost, latency_ms,
              routing_reason, created_at, tenant, tier, route, cache_status, prompt_tokens, completion_tokens,
              escalated_from, error, is_estimated
         from model_inferences where request_id = 'req-full'`,
    );
    expect(stored.rows).toEqual([
      {
        request_id: 'req-full',
        attempt: 2,
        model_id: 'deepseek-v3',
        input_text: 'hello',
        output: 'world',
        quality_score: 0.875,
        cost: '0.00012345',
        latency_ms: 412,
        routing_reason: 'tier=medium',
        created_at: createdAt,
        tenant: 'acme',
        tier: 'medium',
        route: 'deepseek',
        cache_status: 'miss',
        prompt_tokens: 12,
        completion_tokens: 34,
        escalated_from: 'local-qwen',
        error: 'none',
        is_estimated: true,
      },
    ]);
    const sparse = await fake.database.query(
      `select attempt, quality_score, tenant, is_estimated from model_inferences where request_id = 'req-7'`,
    );
    expect(sparse.rows).toEqual([{ attempt: 1, quality_score: null, tenant: null, is_estimated: false }]);

    const writes = fake.requests.filter((request) => request.path === '/rest/v1/model_inferences');
    expect(writes.length).toBeGreaterThanOrEqual(3);
    for (const write of writes) {
      expect(write).toMatchObject({ method: 'POST', status: 201, query: { on_conflict: 'request_id,attempt' } });
      expect(write.prefer).toContain('resolution=ignore-duplicates');
    }

    // The same rows again, as a spill replay after a lost acknowledgement would send them.
    await sink.insert([0, 1, 2].map((index) => toLoggedInference(row(index), { kind: 'full' })));
    expect(await countRows()).toEqual({ total: 121, distinct: 121 });
  });

  it('spills while PostgREST answers 503 and replays afterwards: none lost, none duplicated', async () => {
    const sink = new SupabaseRowSink(client());
    const first = await BatchedInferenceLog.open(logOptions(sink));
    for (let index = 0; index < 250; index += 1) first.append(row(index));
    await first.flush();
    fake.setUnavailable(true);
    const sinkError = once(first, 'sinkError');
    for (let index = 250; index < 600; index += 1) first.append(row(index));
    const [{ error }] = await sinkError;
    expect(error).toBeInstanceOf(SupabaseStoreError);
    expect(error).toMatchObject({ status: 503, code: 'PGRST001' });
    await first.close();
    expect(first.pending.queued).toBe(0);

    const second = await BatchedInferenceLog.open(logOptions(sink)); // a restart while still down
    for (let index = 600; index < 1000; index += 1) second.append(row(index));
    await second.flush();
    expect(second.pending.spilled).toBeGreaterThan(0);
    expect(await countRows()).toEqual({ total: 250, distinct: 250 });

    fake.setUnavailable(false);
    fake.loseNextAcknowledgement(); // the first write after the outage commits but answers 503
    await second.flush();
    await second.flush();
    await second.close();

    expect(await countRows()).toEqual({ total: 1000, distinct: 1000 });
    expect(await readFile(spillPath, 'utf8')).toBe('');
    const sample = await fake.database.query(
      `select cost::text as cost, input_text from model_inferences where request_id = 'req-300'`,
    );
    expect(sample.rows).toEqual([{ cost: '0.00012345', input_text: 'question 300' }]);
  });
});

/** Deterministic unit vectors, so a failure reproduces. */
function randomVectors(count: number, seed = 7): number[][] {
  let state = seed;
  const next = () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return Array.from({ length: count }, () => {
    const vector = Array.from({ length: 384 }, next);
    const norm = Math.hypot(...vector);
    return vector.map((value) => value / norm);
  });
}
const dot = (a: number[], b: number[]) => a.reduce((sum, value, index) => sum + value * b[index], 0);
const cosineDistance = (a: number[], b: number[]) => 1 - dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));

describe('SupabaseEmbeddingStore', () => {
  it('inserts returning ids and finds the nearest neighbours through match_embeddings, filter included', async () => {
    const vectors = randomVectors(200);
    const exact = new SupabaseEmbeddingStore(client(), { probes: 100 }); // every ivfflat list: exact answers
    const ids: string[] = [];
    for (const [index, vector] of vectors.entries()) {
      ids.push(await exact.insert(`doc ${index}`, vector, 'minilm', { group: index % 3 }));
    }
    expect(new Set(ids).size).toBe(200);
    expect(ids.every((id) => /^\d+$/.test(id))).toBe(true);
    const insertRequest = fake.requests.find((request) => request.path === '/rest/v1/embeddings');
    expect(insertRequest).toMatchObject({ method: 'POST', status: 201, query: { select: 'id' } });
    expect(insertRequest?.prefer).toContain('return=representation');

    const query = vectors[42].map((value, index) => value + (index % 2 === 0 ? 0.01 : -0.01));
    const bruteForce = vectors
      .map((vector, index) => ({ index, distance: cosineDistance(query, vector) }))
      .sort((a, b) => a.distance - b.distance);

    const found = await exact.search(query, 5);
    expect(found.map((match) => match.content)).toEqual(bruteForce.slice(0, 5).map(({ index }) => `doc ${index}`));
    expect(found[0]).toMatchObject({ id: ids[42], content: 'doc 42', modelId: 'minilm', metadata: { group: 0 } });
    found.forEach((match, rank) => expect(match.distance).toBeCloseTo(bruteForce[rank].distance, 4));
    const rpc = fake.requests.find((request) => request.path === '/rest/v1/rpc/match_embeddings');
    expect(rpc).toMatchObject({ method: 'POST', status: 200 });

    const byDefault = await new SupabaseEmbeddingStore(client()).search(query, 1);
    expect(byDefault[0].content).toBe('doc 42');

    // match_embeddings goes through the ivfflat index like the SQL backends' query: with one probe
    // both miss the same neighbours (an unindexed scan would return the exact five).
    const oneProbe = await new SupabaseEmbeddingStore(client(), { probes: 1 }).search(query, 5);
    const sqlOneProbe = await new SqlEmbeddingStore(fake.database, { probes: 1 }).search(query, 5);
    expect(oneProbe).toEqual(sqlOneProbe);
    expect(oneProbe.map((match) => match.content)).not.toEqual(found.map((match) => match.content));

    const filtered = await exact.search(query, 5, { group: 1 });
    const bruteForceGroup1 = bruteForce.filter(({ index }) => index % 3 === 1).slice(0, 5);
    expect(filtered.map((match) => match.content)).toEqual(bruteForceGroup1.map(({ index }) => `doc ${index}`));
    expect(filtered.every((match) => match.metadata.group === 1)).toBe(true);

    expect(await exact.search(query, 5, { group: 7 })).toEqual([]);
  });
});

describe('errors from supabase-js are thrown', () => {
  it('a wrong key: the sink and the embedding store reject with the PostgREST error', async () => {
    const wrong = createSupabaseStoreClient({ url: fake.url, serviceRoleKey: 'not-the-key' });
    const sink = new SupabaseRowSink(wrong);
    const rejected = sink.insert([toLoggedInference(row(1), { kind: 'full' })]);
    await expect(rejected).rejects.toBeInstanceOf(SupabaseStoreError);
    await expect(rejected).rejects.toMatchObject({ status: 401, code: 'PGRST301', message: expect.stringContaining('Invalid API key') });

    const embeddings = new SupabaseEmbeddingStore(wrong);
    await expect(embeddings.insert('x', randomVectors(1)[0], 'minilm')).rejects.toMatchObject({ status: 401, code: 'PGRST301' });
    await expect(embeddings.search(randomVectors(1)[0], 3)).rejects.toMatchObject({ status: 401, code: 'PGRST301' });
    expect(await countRows()).toEqual({ total: 0, distinct: 0 });
  });

  it('a wrong key through the log: sinkError, then the rows are spilled, not lost', async () => {
    const wrong = createSupabaseStoreClient({ url: fake.url, serviceRoleKey: 'not-the-key' });
    const log = await BatchedInferenceLog.open(logOptions(new SupabaseRowSink(wrong)));
    const sinkError = once(log, 'sinkError');
    const spilled = once(log, 'spilled');
    log.append(row(1));
    await log.flush();
    expect((await sinkError)[0].error).toMatchObject({ status: 401 });
    expect(await spilled).toEqual([{ rows: 1 }]);
    await log.close();
    expect(log.pending.spilled).toBe(1);
  });

  it('a database error keeps its SQLSTATE and status: a vector of the wrong size is refused', async () => {
    const result = await client()
      .from('embeddings')
      .insert({ content: 'x', embedding: '[1,2,3]', model_id: 'minilm', metadata: {} })
      .select('id');
    expect(result.status).toBe(400);
    expect(result.error).toMatchObject({ code: '22000', message: expect.stringContaining('384') });
  });
});

describe('openStore with Supabase options', () => {
  it('uses supabase-js when supabaseUrl and supabaseKey are given without databaseUrl', async () => {
    const store = await openStore({
      dataDir: directory,
      supabaseUrl: fake.url,
      supabaseKey: fake.key,
      inferenceLog: { flushIntervalMs: 20 },
    });
    expect(store.database).toBeUndefined();
    store.inferenceLog.append(row(5));
    const id = await store.embeddings.insert('doc', randomVectors(1)[0], 'minilm', { group: 1 });
    await store.close();
    expect(await countRows()).toEqual({ total: 1, distinct: 1 });
    const search = await new SupabaseEmbeddingStore(client()).search(randomVectors(1)[0], 1);
    expect(search[0]).toMatchObject({ id, content: 'doc' });
  });
});
