import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { renderReport, REPORT_FORMATS, type ReportFormat } from '../learning/report-format.js';
import { buildSavingsReport, REPORT_PERIODS, reportSettingsOf, type ReportPeriod } from '../learning/savings-report.js';
import type { SqlDatabase } from '../store/sql-database.js';
import { CliError, parseCommandArgs, UsageError, type CommandContext } from './command-context.js';

export const REPORT_USAGE = `usage: sluice report [--period day|week|month] [--format text|json|md|html]
                    [--config <file>] [--url <gateway base url>]

The savings report of the current day, ISO week or month (month by default) on budget.time_zone's
calendar: spend against what every chat request would have cost on targets.baseline_model, local
share, cost per request, quality, p50/p95 latency and failure rate against config.targets, the
projected month-end spend against budget.monthly_usd, and the top models and tenants by cost.

--url (or SLUICE_URL) asks that running gateway (GET /admin/report) with SLUICE_MASTER_KEY.
Without it the command reads the database itself: Postgres (DATABASE_URL) at any time; the
embedded PGlite database only while no gateway has it open, since PGlite allows one process only
(a gateway answering on the configured port is asked instead, or the command refuses).`;

const HEALTH_PROBE_MS = 1_000;

export async function runReport(args: string[], context: CommandContext): Promise<void> {
  const { values, positionals } = parseCommandArgs(args, {
    period: { type: 'string', default: 'month' },
    format: { type: 'string', default: 'text' },
    config: { type: 'string' },
    url: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`report: unexpected argument "${positionals[0]}"`);
  const period = oneOf(REPORT_PERIODS, values.period, '--period');
  const format = oneOf(REPORT_FORMATS, values.format, '--format');
  const env = values.config ? { ...context.env, SLUICE_CONFIG: values.config } : context.env;
  const config = loadConfig(env);
  const gatewayUrl = values.url ?? (env.SLUICE_URL || undefined) ?? (await gatewayHoldingPglite(config, context));
  if (gatewayUrl !== undefined) {
    context.stdout.write(await askGateway(gatewayUrl, config, period, format));
    return;
  }
  const database = await openDatabase(config);
  try {
    const report = await buildSavingsReport(database, { ...reportSettingsOf(config), period });
    context.stdout.write(renderReport(report, format));
  } finally {
    await database.close();
  }
}

function oneOf<T extends string>(allowed: readonly T[], value: string | undefined, option: string): T {
  if (allowed.includes(value as T)) return value as T;
  throw new UsageError(`report: ${option} must be one of ${allowed.join(', ')} (got "${value}")`);
}

const usesPglite = (config: Config) => !config.storage.database_url && !(config.storage.supabase_url && config.storage.supabase_service_role_key);

/**
 * A running gateway's PGlite is never opened a second time: PGlite has no lock of its own, and a
 * second process reads stale pages, loses its writes and can corrupt the directory. When a gateway
 * answers on the configured port it is asked instead; without the master key the command refuses.
 */
async function gatewayHoldingPglite(config: Config, context: CommandContext): Promise<string | undefined> {
  if (!usesPglite(config)) return undefined;
  const gatewayUrl = localGatewayUrl(config);
  if (!(await isGatewayUp(gatewayUrl))) return undefined;
  if (!config.auth.master_key) {
    throw new CliError(
      `report: a gateway at ${gatewayUrl} has the embedded database ${resolve(config.paths.data_dir, 'pglite')} open, and PGlite cannot be opened by a second process; ` +
        'set SLUICE_MASTER_KEY to ask the gateway (sluice report --url), or stop it first',
    );
  }
  context.stderr.write(`sluice: a gateway at ${gatewayUrl} holds the embedded database; asking it\n`);
  return gatewayUrl;
}

/**
 * The database the gateway would open, without its log: the log would replay the gateway's spill
 * file, which is not the report's to touch.
 */
async function openDatabase(config: Config): Promise<SqlDatabase> {
  const { storage } = config;
  // Imported here, not at the top: the database drivers are heavy, and the other commands need neither.
  if (storage.database_url) return (await import('../store/postgres-store.js')).openPostgresDatabase({ connectionString: storage.database_url, maxConnections: 1 });
  if (!usesPglite(config)) {
    throw new CliError('report: the supabase-js store has no SQL access to the inference log; set DATABASE_URL to the Supabase connection string');
  }
  if (!existsSync(join(config.paths.data_dir, 'pglite'))) {
    throw new CliError(`report: no embedded database under ${resolve(config.paths.data_dir)} (paths.data_dir, SLUICE_DATA_DIR): nothing has been logged there yet`);
  }
  return (await import('../store/pglite-store.js')).openPgliteDatabase({ dataDir: config.paths.data_dir });
}

/** Where a gateway started with this config listens, as seen from this machine. */
function localGatewayUrl(config: Config): string {
  const host = ['0.0.0.0', '::', ''].includes(config.server.host) ? '127.0.0.1' : config.server.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.server.port}`;
}

/** A Sluice gateway answers /health with `{"status":"ok"}`; anything else listening there is not one. */
async function isGatewayUp(baseUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(HEALTH_PROBE_MS) });
    const body = (await response.json()) as { status?: unknown };
    return response.ok && body.status === 'ok';
  } catch {
    return false; // refused, timed out or not JSON: no gateway there
  }
}

async function askGateway(baseUrl: string, config: Config, period: ReportPeriod, format: ReportFormat): Promise<string> {
  if (!config.auth.master_key) throw new CliError('report: asking a gateway needs its master key in SLUICE_MASTER_KEY');
  const origin = baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
  const target = `${origin}/admin/report?${new URLSearchParams({ period, format })}`;
  let response: Response;
  try {
    response = await fetch(target, { headers: { authorization: `Bearer ${config.auth.master_key}` } });
  } catch (error) {
    throw new CliError(`report: no gateway answered at ${origin} (${(error as Error).cause ?? (error as Error).message})`);
  }
  const body = await response.text();
  if (response.ok) return body;
  throw new CliError(`report: the gateway at ${origin} answered ${response.status}: ${errorMessageOf(body)}`);
}

function errorMessageOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') return parsed.error.message;
  } catch {
    // not JSON: the body itself, shortened, says what went wrong
  }
  return body.slice(0, 200);
}
