import { join } from 'node:path';
import { BatchedInferenceLog, type BatchedInferenceLogOptions } from './batched-inference-log.js';
import { SqlEmbeddingStore, type EmbeddingStore } from './embedding-store.js';
import type { InferenceLog } from './inference-log.js';
import { openPgliteDatabase } from './pglite-store.js';
import { openPostgresDatabase } from './postgres-store.js';
import type { SqlDatabase } from './sql-database.js';
import { SqlRowSink } from './sql-row-sink.js';

export interface StoreOptions {
  dataDir: string; // SLUICE_DATA_DIR: PGlite files (without databaseUrl) and the spill file
  databaseUrl?: string; // DATABASE_URL: plain Postgres or Supabase
  inferenceLog?: Omit<BatchedInferenceLogOptions, 'sink' | 'spillPath'>;
}

export interface SluiceStore {
  readonly database: SqlDatabase;
  readonly inferenceLog: InferenceLog;
  readonly embeddings: EmbeddingStore;
  /** Flushes the log (what the database refuses is spilled), then closes the database. */
  close(): Promise<void>;
}

/** Postgres when a URL is configured, else embedded PGlite; migrated, with the log started. */
export async function openStore(options: StoreOptions): Promise<SluiceStore> {
  const database =
    options.databaseUrl === undefined
      ? await openPgliteDatabase({ dataDir: options.dataDir })
      : await openPostgresDatabase({ connectionString: options.databaseUrl });
  const inferenceLog = await BatchedInferenceLog.open({
    ...options.inferenceLog,
    sink: new SqlRowSink(database),
    spillPath: join(options.dataDir, 'inference-log.spill.jsonl'),
  });
  return {
    database,
    inferenceLog,
    embeddings: new SqlEmbeddingStore(database),
    async close() {
      await inferenceLog.close();
      await database.close();
    },
  };
}
