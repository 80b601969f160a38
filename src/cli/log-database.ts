import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { SqlDatabase } from '../store/sql-database.js';
import { CliError } from './command-context.js';

/** How long a command waits for a gateway's /health before deciding none runs. */
const HEALTH_PROBE_MS = 1_000;

/** The store the config opens is the embedded PGlite (no Postgres URL, no Supabase). */
export const usesPglite = (config: Config) => !config.storage.database_url && !(config.storage.supabase_url && config.storage.supabase_service_role_key);

/** Where a gateway started with this config listens, as seen from this machine. */
export function localGatewayUrl(config: Config): string {
  const host = ['0.0.0.0', '::', ''].includes(config.server.host) ? '127.0.0.1' : config.server.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.server.port}`;
}

/** A Sluice gateway answers /health with `{"status":"ok"}`; anything else listening there is not one. */
export async function isGatewayUp(baseUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(HEALTH_PROBE_MS) });
    const body = (await response.json()) as { status?: unknown };
    return response.ok && body.status === 'ok';
  } catch {
    return false; // refused, timed out or not JSON: no gateway there
  }
}

/** The refusal for a PGlite directory a running gateway holds: a second process reads stale pages, loses writes, can corrupt it. */
export function heldPgliteMessage(command: string, config: Config, gatewayUrl: string, instead: string): string {
  return `${command}: a gateway at ${gatewayUrl} has the embedded database ${resolve(config.paths.data_dir, 'pglite')} open, and PGlite cannot be opened by a second process; ${instead}`;
}

/**
 * The database the gateway would open, for a command that reads (or learns from) the log, without
 * the log itself: the log would replay the gateway's spill file, which is not the command's to touch.
 */
export async function openLogDatabase(config: Config, command: string): Promise<SqlDatabase> {
  const { storage } = config;
  // Imported here, not at the top: the database drivers are heavy, and the other commands need neither.
  if (storage.database_url) return (await import('../store/postgres-store.js')).openPostgresDatabase({ connectionString: storage.database_url, maxConnections: 1 });
  if (!usesPglite(config)) {
    throw new CliError(`${command}: the supabase-js store has no SQL access to the inference log; set DATABASE_URL to the Supabase connection string`);
  }
  if (!existsSync(join(config.paths.data_dir, 'pglite'))) {
    throw new CliError(`${command}: no embedded database under ${resolve(config.paths.data_dir)} (paths.data_dir, SLUICE_DATA_DIR): nothing has been logged there yet`);
  }
  return (await import('../store/pglite-store.js')).openPgliteDatabase({ dataDir: config.paths.data_dir });
}
