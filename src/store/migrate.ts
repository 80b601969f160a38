import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { SqlDatabase } from './sql-database.js';

export interface Migration {
  version: string; // the file name without `.sql`, e.g. 001_init
  sql: string;
}

/**
 * tsc does not copy .sql files, so a compiled build (dist/src/store) also looks in the sources
 * (src/store/migrations, two levels up from dist/src/store).
 */
export function defaultMigrationsDir(): string {
  const candidates = [
    fileURLToPath(new URL('./migrations/', import.meta.url)),
    fileURLToPath(new URL('../../../src/store/migrations/', import.meta.url)),
  ];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found === undefined) throw new Error(`no migrations directory; looked in ${candidates.join(', ')}`);
  return found;
}

export async function loadMigrations(directory = defaultMigrationsDir()): Promise<Migration[]> {
  const names = (await readdir(directory)).filter((name) => name.endsWith('.sql')).sort();
  return Promise.all(
    names.map(async (name) => ({
      version: name.slice(0, -'.sql'.length),
      sql: await readFile(`${directory}/${name}`, 'utf8'),
    })),
  );
}

// Any constant works; it only has to be the same for every Sluice instance migrating one database.
const MIGRATION_LOCK_KEY = 5_141_203;

/**
 * Applies, in file-name order, each migration not yet recorded in `sluice_migrations`, each in its
 * own transaction together with its record: running it again is a no-op. An advisory lock keeps
 * gateway instances starting together against one database from applying the same file twice, or
 * from tripping over each other creating the record table.
 * Returns the versions applied by this call.
 */
export async function runMigrations(database: SqlDatabase, migrations?: readonly Migration[]): Promise<string[]> {
  const pending = migrations ?? (await loadMigrations());
  // Under the lock too: two `create table if not exists` racing on a fresh database both try to
  // create the table's row type, and one fails on pg_type's unique index.
  await database.transaction(async (session) => {
    await session.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await session.exec(
      `create table if not exists sluice_migrations (
         version text primary key,
         applied_at timestamptz not null default now()
       )`,
    );
  });
  const applied: string[] = [];
  for (const migration of pending) {
    const wasApplied = await database.transaction(async (session) => {
      await session.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      const done = await session.query('select 1 from sluice_migrations where version = $1', [migration.version]);
      if (done.rows.length > 0) return false;
      await session.exec(migration.sql);
      await session.query('insert into sluice_migrations (version) values ($1)', [migration.version]);
      return true;
    });
    if (wasApplied) applied.push(migration.version);
  }
  return applied;
}

/** `database` with every migration applied, or closed and the migration's error thrown: what each opener returns. */
export async function migratedOrClosed<Database extends SqlDatabase>(database: Database): Promise<Database> {
  try {
    await runMigrations(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}
