import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { renderReport, REPORT_FORMATS, type ReportFormat } from '../learning/report-format.js';
import { buildSavingsReport, REPORT_PERIODS, reportSettingsOf, type ReportPeriod } from '../learning/savings-report.js';
import { CliError, parseCommandArgs, UsageError, type CommandContext } from './command-context.js';
import { heldPgliteMessage, isGatewayUp, localGatewayUrl, openLogDatabase, usesPglite } from './log-database.js';

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
  const database = await openLogDatabase(config, 'report');
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
    throw new CliError(heldPgliteMessage('report', config, gatewayUrl, 'set SLUICE_MASTER_KEY to ask the gateway (sluice report --url), or stop it first'));
  }
  context.stderr.write(`sluice: a gateway at ${gatewayUrl} holds the embedded database; asking it\n`);
  return gatewayUrl;
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
