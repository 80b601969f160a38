import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchedInferenceLog } from '../../../src/store/batched-inference-log.js';
import { LoggedFeedbackStore, sqlRecordFeedback, SqlShadowLabelStore, SupabaseShadowLabelStore } from '../../../src/store/feedback-store.js';
import { openPgliteDatabase } from '../../../src/store/pglite-store.js';
import { openPostgresDatabase } from '../../../src/store/postgres-store.js';
import type { SqlDatabase } from '../../../src/store/sql-database.js';
import { SqlRowSink } from '../../../src/store/sql-row-sink.js';
import { createSupabaseStoreClient } from '../../../src/store/supabase-store.js';
import { startFakePostgrest, type FakePostgrest } from '../../fakes/fake-postgrest.js';
import { startPostgresServer, type PostgresServer } from '../../support/postgres-server.js';

// The feedback table and its record_feedback function (migration 005) on both SQL backends: the
// same statement checks the request belongs to the tenant and upserts, so the rules hold in SQL.

describe.each(['pglite', 'postgres'] as const)('feedback store on %s', (backend) => {
  let server: PostgresServer | undefined;
  let database: SqlDatabase;
  let log: BatchedInferenceLog;

  beforeAll(async () => {
    if (backend === 'postgres') {
      server = await startPostgresServer();
      database = await openPostgresDatabase({ connectionString: server.url });
    } else {
      database = await openPgliteDatabase({ inMemory: true });
    }
    const spillPath = join(mkdtempSync(join(tmpdir(), 'sluice-feedback-unit-')), 'spill.jsonl');
    log = await BatchedInferenceLog.open({ sink: new SqlRowSink(database), spillPath, flushIntervalMs: 600_000, batchMaxRows: 10_000 });
    log.append({ requestId: 'req_a', attempt: 1, tenant: 'support', modelId: 'local-qwen' });
    log.append({ requestId: 'req_a', attempt: 2, tenant: 'support', modelId: 'deepseek-chat' });
    log.append({ requestId: 'req_b', attempt: 1, tenant: 'billing', modelId: 'gpt-4o' });
  }, 60_000);
  afterAll(async () => {
    await log.close();
    await database.close();
    await server?.destroy();
  });

  const comments = async () => (await database.query<{ request_id: string; tenant: string; score: number; comment: string | null }>('select request_id, tenant, score, comment from feedback order by request_id, tenant')).rows;

  it('finds a request still in the log queue (one flush), stores one row per request and tenant, replacing', async () => {
    const store = new LoggedFeedbackStore(sqlRecordFeedback(database), log);
    expect(log.pending.queued).toBe(3);
    const first = await store.save({ requestId: 'req_a', tenant: 'support', score: 0.25, comment: 'meh' });
    expect(first).toMatchObject({ requestId: 'req_a', score: 0.25 });
    expect(log.pending.queued).toBe(0);
    const again = await store.save({ requestId: 'req_a', tenant: 'support', score: 1 });
    expect(again!.createdAt.getTime()).toBeGreaterThanOrEqual(first!.createdAt.getTime());
    expect(await comments()).toEqual([{ request_id: 'req_a', tenant: 'support', score: 1, comment: null }]);
  });

  it('a request of another tenant, or none, is not found and stores nothing', async () => {
    const store = new LoggedFeedbackStore(sqlRecordFeedback(database), log);
    expect(await store.save({ requestId: 'req_b', tenant: 'support', score: 0 })).toBeUndefined();
    expect(await store.save({ requestId: 'req_missing', tenant: 'support', score: 0 })).toBeUndefined();
    expect((await comments()).map((row) => row.request_id)).toEqual(['req_a']);
  });

  it('applies storage.log_text to the comment and keeps NUL out of the text columns', async () => {
    const hashed = new LoggedFeedbackStore(sqlRecordFeedback(database), log, { kind: 'hashed' });
    await hashed.save({ requestId: 'req_b', tenant: 'billing', score: 0, comment: 'wrong invoice total' });
    const off = new LoggedFeedbackStore(sqlRecordFeedback(database), log, { kind: 'off' });
    await off.save({ requestId: 'req_a', tenant: 'support', score: 0.5, comment: 'secret' });
    const full = new LoggedFeedbackStore(sqlRecordFeedback(database), log);
    log.append({ requestId: 'req_c', attempt: 1, tenant: 'support' });
    await full.save({ requestId: 'req_c', tenant: 'support', score: 0.5, comment: 'nul\u0000inside' });
    expect(await comments()).toEqual([
      { request_id: 'req_a', tenant: 'support', score: 0.5, comment: null },
      { request_id: 'req_b', tenant: 'billing', score: 0, comment: `sha256:${createHash('sha256').update('wrong invoice total').digest('hex')}` },
      { request_id: 'req_c', tenant: 'support', score: 0.5, comment: 'nulinside' },
    ]);
  });

  it('the table refuses a score outside 0..1 whoever writes it', async () => {
    await expect(database.query("insert into feedback (request_id, tenant, score) values ('req_x', 'support', 1.5)")).rejects.toThrow(/check/i);
  });
});

describe('shadow labels', () => {
  let postgrest: FakePostgrest;
  beforeAll(async () => {
    postgrest = await startFakePostgrest();
  });
  afterAll(() => postgrest.close());

  const label = { requestId: 'req_s', tenant: 'support', tier: 'simple', localModel: 'local-qwen', localScore: 0.8, premiumModel: 'gpt-4o', premiumScore: 0.9, costUsd: 0.00042, agreement: 0.5 };

  it.each(['sql', 'supabase'] as const)('%s: one label per request, a second one ignored, unknown values null', async (kind) => {
    await postgrest.database.exec('truncate shadow_labels');
    const store = kind === 'sql' ? new SqlShadowLabelStore(postgrest.database) : new SupabaseShadowLabelStore(createSupabaseStoreClient({ url: postgrest.url, serviceRoleKey: postgrest.key }));
    await store.save(label);
    await store.save({ ...label, premiumScore: 0.1 });
    await store.save({ requestId: 'req_t', localModel: 'local-qwen', premiumModel: 'gpt-4o', localScore: Number.NaN });
    const { rows } = await postgrest.database.query('select request_id, tenant, local_score, premium_score, cost::text as cost, agreement from shadow_labels order by request_id');
    expect(rows).toEqual([
      { request_id: 'req_s', tenant: 'support', local_score: 0.8, premium_score: 0.9, cost: '0.00042000', agreement: 0.5 },
      { request_id: 'req_t', tenant: null, local_score: null, premium_score: null, cost: null, agreement: null },
    ]);
  });
});
