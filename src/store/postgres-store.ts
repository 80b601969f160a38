import pg from 'pg';
import { migratedOrClosed } from './migrate.js';
import type { SqlDatabase, SqlSession } from './sql-database.js';

export interface PostgresOptions {
  connectionString: string; // DATABASE_URL; Supabase's own connection string works too
  maxConnections?: number; // default 4: the log writes one batch at a time
}

/** Postgres through a `pg.Pool`, migrated at open. The pool reconnects by itself after an outage. */
export async function openPostgresDatabase(options: PostgresOptions): Promise<SqlDatabase> {
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 4 });
  // An idle client whose server went away emits 'error' on the pool; without a listener Node exits.
  // The next query gets a fresh connection, and its failure reaches the caller.
  pool.on('error', () => undefined);
  const poolSession: SqlSession = {
    async query<T>(sql: string, params: readonly unknown[] = []) {
      const result = await pool.query(sql, [...params]);
      return { rows: result.rows as T[] };
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
  };
  const database: SqlDatabase = {
    backend: 'postgres',
    ...poolSession,
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const result = await work({
          async query<T>(sql: string, params: readonly unknown[] = []) {
            return { rows: (await client.query(sql, [...params])).rows as T[] };
          },
          async exec(sql: string) {
            await client.query(sql);
          },
        });
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => undefined); // the original error is the one to report
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
  return migratedOrClosed(database);
}
