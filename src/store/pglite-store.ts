import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { runMigrations } from './migrate.js';
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

/** The embedded default: PGlite with pgvector under `${dataDir}/pglite`, migrated at open. */
export async function openPgliteDatabase(options: { dataDir: string } | { inMemory: true }): Promise<SqlDatabase> {
  let dataDir: string | undefined;
  if ('dataDir' in options) {
    dataDir = join(options.dataDir, 'pglite');
    await mkdir(dataDir, { recursive: true });
  }
  const pglite = await PGlite.create({ dataDir, extensions: { vector } });
  const database: SqlDatabase = {
    backend: 'pglite',
    ...session(pglite),
    transaction: (work) => pglite.transaction((transaction) => work(session(transaction))),
    close: () => pglite.close(),
  };
  try {
    await runMigrations(database);
  } catch (error) {
    await pglite.close();
    throw error;
  }
  return database;
}
