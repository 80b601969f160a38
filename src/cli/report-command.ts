import { loadConfig } from '../config/load.js';
import { renderReport, REPORT_FORMATS } from '../learning/report-format.js';
import { buildSavingsReport, REPORT_PERIODS, reportSettingsOf } from '../learning/savings-report.js';
import { parseCommandArgs, UsageError, type CommandContext } from './command-context.js';
import { askGateway, gatewayToAsk } from './gateway-client.js';
import { openLogDatabase } from './log-database.js';

export const REPORT_USAGE = `usage: sluice report [--period day|week|month] [--format text|json|md|html]
                    [--config <file>] [--url <gateway base url>]

The savings report of the current day, ISO week or month (month by default) on budget.time_zone's
calendar: spend against what every chat request would have cost on targets.baseline_model, local
share, cost per request, quality, p50/p95 latency and failure rate against config.targets, the
projected month-end spend against budget.monthly_usd, and the top models and tenants by cost.

While a gateway runs, the command asks it (GET /admin/report) with SLUICE_MASTER_KEY: the one
answering on the configured port, or the one --url (or SLUICE_URL) names. With none running it
reads the database itself. The embedded PGlite database is never opened while a gateway has it
(PGlite allows one process only): without the master key the command then refuses.`;


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
  const gatewayUrl = await gatewayToAsk('report', config, values.url ?? (env.SLUICE_URL || undefined), context);
  if (gatewayUrl !== undefined) {
    context.stdout.write(await askGateway('report', gatewayUrl, config, `/admin/report?${new URLSearchParams({ period, format })}`));
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
