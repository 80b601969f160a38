import { join } from 'node:path';
import { BatchedInferenceLog, type BatchedInferenceLogOptions } from './batched-inference-log.js';
import { SqlEmbeddingStore, type EmbeddingStore } from './embedding-store.js';
import {
  LoggedFeedbackStore,
  sqlRecordFeedback,
  SqlShadowLabelStore,
  supabaseRecordFeedback,
  SupabaseShadowLabelStore,
  type FeedbackStore,
  type ShadowLabelStore,
} from './feedback-store.js';
import type { InferenceLog } from './inference-log.js';
import { openPgliteDatabase } from './pglite-store.js';
import { openPgliteThreadDatabase } from './pglite-thread.js';
import { openPostgresDatabase } from './postgres-store.js';
import type { SqlDatabase } from './sql-database.js';
import { SqlRowSink } from './sql-row-sink.js';
import { createSupabaseStoreClient, SupabaseEmbeddingStore, SupabaseRowSink } from './supabase-store.js';

export interface StoreOptions {
  dataDir: string; // SLUICE_DATA_DIR: PGlite files (without databaseUrl) and the spill file
  databaseUrl?: string; // DATABASE_URL: plain Postgres or Supabase
  supabaseUrl?: string; // SUPABASE_URL: supabase-js over PostgREST, used only without databaseUrl
  supabaseKey?: string; // SUPABASE_SERVICE_ROLE_KEY
  inferenceLog?: Omit<BatchedInferenceLogOptions, 'sink' | 'spillPath'>;
  /** PGlite on the calling thread instead of its worker thread (where its writes cannot block the event loop). */
  pgliteOnCallingThread?: boolean;
}

/**
 * `database` is undefined for the supabase-js backend: PostgREST runs no DDL, so the operator applies
 * the migrations (Supabase SQL editor, or migrate with DATABASE_URL set to the Supabase connection
 * string). The type parameter keeps `store.database` a plain SqlDatabase for callers that cannot
 * pass Supabase options (see the overloads of openStore), so none of them had to change.
 */
export interface SluiceStore<Database extends SqlDatabase | undefined = SqlDatabase> {
  readonly database: Database;
  readonly inferenceLog: InferenceLog;
  readonly embeddings: EmbeddingStore;
  /** Ratings from POST /v1/feedback (migration 005), checked against the inference log. */
  readonly feedback: FeedbackStore;
  /** Local answers compared with a premium model's (learning.shadow), migration 005. */
  readonly shadowLabels: ShadowLabelStore;
  /** Flushes the log (what the database refuses is spilled), then closes the database, if any. */
  close(): Promise<void>;
}

/**
 * Postgres when a URL is configured, else supabase-js when SUPABASE_URL and its key are, else
 * embedded PGlite (on its worker thread); SQL backends are migrated here. The log is started.
 */
export function openStore(options: StoreOptions & { supabaseUrl?: undefined }): Promise<SluiceStore>;
export function openStore(options: StoreOptions): Promise<SluiceStore<SqlDatabase | undefined>>;
export async function openStore(options: StoreOptions): Promise<SluiceStore<SqlDatabase | undefined>> {
  const spillPath = join(options.dataDir, 'inference-log.spill.jsonl');
  if (options.databaseUrl === undefined && options.supabaseUrl !== undefined && options.supabaseKey !== undefined) {
    const client = createSupabaseStoreClient({ url: options.supabaseUrl, serviceRoleKey: options.supabaseKey });
    const inferenceLog = await BatchedInferenceLog.open({ ...options.inferenceLog, sink: new SupabaseRowSink(client), spillPath });
    return {
      database: undefined,
      inferenceLog,
      embeddings: new SupabaseEmbeddingStore(client),
      feedback: new LoggedFeedbackStore(supabaseRecordFeedback(client), inferenceLog, options.inferenceLog?.textMode),
      shadowLabels: new SupabaseShadowLabelStore(client),
      async close() {
        await inferenceLog.close();
        await client.removeAllChannels();
      },
    };
  }
  const database =
    options.databaseUrl === undefined
      ? await (options.pgliteOnCallingThread ? openPgliteDatabase : openPgliteThreadDatabase)({ dataDir: options.dataDir })
      : await openPostgresDatabase({ connectionString: options.databaseUrl });
  const inferenceLog = await BatchedInferenceLog.open({
    ...options.inferenceLog,
    sink: new SqlRowSink(database),
    spillPath,
  });
  return {
    database,
    inferenceLog,
    embeddings: new SqlEmbeddingStore(database),
    feedback: new LoggedFeedbackStore(sqlRecordFeedback(database), inferenceLog, options.inferenceLog?.textMode),
    shadowLabels: new SqlShadowLabelStore(database),
    async close() {
      await inferenceLog.close();
      await database.close();
    },
  };
}
