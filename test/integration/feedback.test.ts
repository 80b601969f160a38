import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/auth/key-store.js';
import { openStore, type SluiceStore } from '../../src/store/open-store.js';
import type { SqlDatabase } from '../../src/store/sql-database.js';
import { startFakePostgrest, type FakePostgrest } from '../fakes/fake-postgrest.js';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

// POST /v1/feedback through the real gateway, on the embedded PGlite store and on the supabase-js
// store (over the loopback PostgREST stand-in). The log's timer is set far beyond the test, so a
// request just answered is still in the log's queue when it is rated, as under load.

const SUPPORT_KEY = 'sk-support-secret';
const BILLING_KEY = 'sk-billing-secret';

interface FeedbackRow {
  request_id: string;
  tenant: string;
  score: number;
  comment: string | null;
}

describe.each(['pglite', 'supabase'] as const)('POST /v1/feedback on %s', (backend) => {
  let sluice: TestGateway;
  let store: SluiceStore<SqlDatabase | undefined>;
  let postgrest: FakePostgrest | undefined;
  let database: SqlDatabase;

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sluice-feedback-'));
    const inferenceLog = { flushIntervalMs: 600_000, batchMaxRows: 10_000, textMode: { kind: 'truncated', maxChars: 12 } as const };
    if (backend === 'supabase') {
      postgrest = await startFakePostgrest();
      store = await openStore({ dataDir, supabaseUrl: postgrest.url, supabaseKey: postgrest.key, inferenceLog });
      database = postgrest.database;
    } else {
      store = await openStore({ dataDir, inferenceLog });
      database = store.database!;
    }
    sluice = await startTestGateway(
      (raw) => {
        raw.auth = {
          keys: [
            { name: 'support', key_sha256: sha256Hex(SUPPORT_KEY) },
            { name: 'billing', key_sha256: sha256Hex(BILLING_KEY) },
          ],
        };
      },
      { inferenceLog: store.inferenceLog, store },
    );
  });
  afterAll(async () => {
    await sluice.close(); // closes the store after the log has flushed
    await postgrest?.close();
  });

  const rate = (apiKey: string, body: unknown) =>
    fetch(`${sluice.baseURL}/feedback`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  async function answeredRequest(apiKey = SUPPORT_KEY): Promise<string> {
    const client = new OpenAI({ baseURL: sluice.baseURL, apiKey, maxRetries: 0 });
    const { response } = await client.chat.completions.create({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'how do I reset my password?' }] }).withResponse();
    return response.headers.get('x-sluice-request-id')!;
  }

  async function storedFeedback(requestId: string): Promise<FeedbackRow[]> {
    const { rows } = await database.query<FeedbackRow>('select request_id, tenant, score, comment from feedback where request_id = $1', [requestId]);
    return rows;
  }

  it('rates a request answered a moment ago, before its log row was written', async () => {
    const requestId = await answeredRequest();
    expect(store.inferenceLog.pending.queued).toBeGreaterThan(0);
    const response = await rate(SUPPORT_KEY, { request_id: requestId, score: 0.75, comment: 'helpful but slow' });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toEqual({ object: 'feedback', request_id: requestId, score: 0.75, created_at: expect.any(Number) });
    expect(Math.abs(body.created_at - Date.now() / 1000)).toBeLessThan(60);
    // The comment obeys storage.log_text like the prompt (truncated to 12 characters here).
    expect(await storedFeedback(requestId)).toEqual([{ request_id: requestId, tenant: 'support', score: 0.75, comment: 'helpful but ' }]);
  });

  it('thumbs map to 1 and 0, and rating again replaces the earlier rating', async () => {
    const requestId = await answeredRequest();
    const up = await rate(SUPPORT_KEY, { request_id: requestId, thumbs: 'up' });
    expect((await up.json()).score).toBe(1);
    const down = await rate(SUPPORT_KEY, { request_id: requestId, thumbs: 'down' });
    expect(down.status).toBe(200);
    expect((await down.json()).score).toBe(0);
    expect(await storedFeedback(requestId)).toEqual([{ request_id: requestId, tenant: 'support', score: 0, comment: null }]);
  });

  it('a score too small for the stored real is kept as 0, not refused with a 500', async () => {
    const requestId = await answeredRequest();
    const response = await rate(SUPPORT_KEY, { request_id: requestId, score: 5e-324 });
    expect(response.status).toBe(200);
    expect((await response.json()).score).toBe(0);
    expect(await storedFeedback(requestId)).toEqual([{ request_id: requestId, tenant: 'support', score: 0, comment: null }]);
  });

  it('a request made under another key is unknown: 404 naming request_id', async () => {
    const requestId = await answeredRequest(BILLING_KEY);
    const response = await rate(SUPPORT_KEY, { request_id: requestId, thumbs: 'down' });
    expect(response.status).toBe(404);
    expect((await response.json()).error).toMatchObject({ type: 'invalid_request_error', param: 'request_id', code: 'request_not_found' });
    expect(await storedFeedback(requestId)).toEqual([]);
    expect((await rate(BILLING_KEY, { request_id: requestId, thumbs: 'up' })).status).toBe(200);
  });

  it('a request id never issued is a 404, and a missing key a 401', async () => {
    const unknown = await rate(SUPPORT_KEY, { request_id: 'req_00000000000000000000000000000000', score: 1 });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.param).toBe('request_id');
    const anonymous = await fetch(`${sluice.baseURL}/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request_id: 'req_1', score: 1 }) });
    expect(anonymous.status).toBe(401);
  });

  it.each([
    [{ score: 1 }, 'request_id'],
    [{ request_id: 'not-a-request', score: 1 }, 'request_id'],
    [{ request_id: 'req_abc' }, 'score'],
    [{ request_id: 'req_abc', score: 1, thumbs: 'up' }, 'thumbs'],
    [{ request_id: 'req_abc', score: 1.5 }, 'score'],
    [{ request_id: 'req_abc', score: '1' }, 'score'],
    [{ request_id: 'req_abc', thumbs: 'sideways' }, 'thumbs'],
    [{ request_id: 'req_abc', score: 1, comment: 'x'.repeat(4001) }, 'comment'],
    [{ request_id: 'req_abc', score: 1, stars: 5 }, 'stars'],
  ])('bad body %j is a 400 naming %s', async (body, param) => {
    const response = await rate(SUPPORT_KEY, body);
    expect(response.status).toBe(400);
    const { error } = await response.json();
    expect(error.type).toBe('invalid_request_error');
    expect(error.param).toBe(param);
  });

  it('counts stored ratings in sluice_feedback_total by kind', async () => {
    const metrics = await (await fetch(`${sluice.origin}/metrics`)).text();
    // Earlier tests here stored two scores, two thumbs up and one thumbs down; refusals are not counted.
    expect(metrics).toMatch(/sluice_feedback_total\{rating="score"\} 2\n/);
    expect(metrics).toMatch(/sluice_feedback_total\{rating="up"\} 2\n/);
    expect(metrics).toMatch(/sluice_feedback_total\{rating="down"\} 1\n/);
    expect(metrics).toMatch(/sluice_requests_total\{endpoint="feedback",route="none",model="none",tier="none",status="200"\} 5\n/);
  });
});

describe('POST /v1/feedback without a store', () => {
  let sluice: TestGateway;
  beforeAll(async () => {
    sluice = await startTestGateway();
  });
  afterAll(() => sluice.close());

  it('answers 503 and is listed in the OpenAPI document', async () => {
    const response = await fetch(`${sluice.baseURL}/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request_id: 'req_abc', thumbs: 'up' }) });
    expect(response.status).toBe(503);
    expect((await response.json()).error.code).toBe('feedback_store_unavailable');
    const document = await (await fetch(`${sluice.origin}/openapi.json`)).json();
    const schema = document.paths['/v1/feedback'].post.requestBody.content['application/json'].schema;
    expect(Object.keys(schema.properties)).toEqual(['request_id', 'score', 'thumbs', 'comment']);
  });
});
