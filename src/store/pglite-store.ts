import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { migratedOrClosed } from './migrate.js';
import type { SqlDatabase, SqlSession } from './sql-database.js';

type Queryable = Pick<PGlite, 'query' | 'exec'>;

function session(client: Queryable): SqlSession {
  return {
    async query<T>(sql: string, params: readonly unknown[] = []) {
      const result = await client.query<T>(sql, [...params]);
      return { rows: result.rows };
    },
    async exec(sql: string) {
      await client.exec(sql);
    },
  };
}

export type PgliteLocation = { dataDir: string } | { inMemory: true };

/** PGlite with pgvector under `${dataDir}/pglite` (or in memory), not migrated; on the calling thread. */
export async function createPglite(options: PgliteLocation): Promise<PGlite> {
  let dataDir: string | undefined;
  if ('dataDir' in options) {
    dataDir = join(options.dataDir, 'pglite');
    await mkdir(dataDir, { recursive: true });
  }
  return PGlite.create({ dataDir, extensions: { vector } });
}

/**
 * The embedded default on the calling thread, migrated at open. Its queries block that thread
 * (3–17 ms per batch write), so the gateway opens pglite-thread.ts instead; tests and tools use this.
 */
export async function openPgliteDatabase(options: PgliteLocation): Promise<SqlDatabase> {
  const pglite = await createPglite(options);
  const database: SqlDatabase = {
    backend: 'pglite',
    ...session(pglite),
    transaction: (work) => pglite.transaction((transaction) => work(session(transaction))),
    close: () => pglite.close(),
  };
  return migratedOrClosed(database);
}
