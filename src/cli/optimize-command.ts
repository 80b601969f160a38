import { join, resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { retrainSourceFor } from '../learning/classifier-retrain.js';
import { OptimizerControl, OptimizeRefusal, type OptimizeCommand, type OptimizeResult } from '../learning/optimizer-control.js';
import { configSettings } from '../learning/optimizer-job.js';
import { optimizerSettingsOf } from '../learning/optimizer.js';
import { ProposalStore, proposalDiff, renderProposal } from '../learning/proposal-store.js';
import { CliError, parseCommandArgs, UsageError, type CommandContext } from './command-context.js';
import { askGateway, gatewayToAsk } from './gateway-client.js';
import { openLogDatabase } from './log-database.js';

export const OPTIMIZE_USAGE = `usage: sluice optimize [--dry-run | --apply [--version <n>] | --rollback | --list] [--json]
                      [--config <file>] [--url <gateway base url>]

Re-fits each tier's escalation threshold and local_share to the labels (feedback, shadow labels)
of the last learning.optimizer.window_days, and the tier classifier to the labelled prompts
(learning.optimizer.retrain), and prints the proposal: the evidence, and each setting from → to
with its expected cost and quality change (for the classifier: its held-out accuracy).

  --dry-run    print the proposal, write nothing (the default)
  --apply      save the proposal under ${'${data_dir}'}/learning/proposals/ and apply it
               (applied.json); --version <n> applies saved proposal n instead
  --rollback   back to the settings before the last applied proposal
  --list       the saved proposals, which one is applied
  --json       the result as JSON (what POST /admin/optimize answers)

While a gateway runs, the command asks it (POST /admin/optimize) with SLUICE_MASTER_KEY: the one
answering on the configured port, or the one --url (or SLUICE_URL) names; --apply and --rollback
then change its live routing at once. With none running the command works on the data directory
and the database itself, and a gateway takes the applied settings at its next start.`;

export async function runOptimize(args: string[], context: CommandContext): Promise<void> {
  const { values, positionals } = parseCommandArgs(args, {
    'dry-run': { type: 'boolean', default: false },
    apply: { type: 'boolean', default: false },
    version: { type: 'string' },
    rollback: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    config: { type: 'string' },
    url: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`optimize: unexpected argument "${positionals[0]}"`);
  const command = commandOf(values);
  const env = values.config ? { ...context.env, SLUICE_CONFIG: values.config } : context.env;
  const config = loadConfig(env);
  const gatewayUrl = await gatewayToAsk('optimize', config, values.url ?? (env.SLUICE_URL || undefined), context);
  const result = gatewayUrl === undefined ? await runOnStore(config, command) : (JSON.parse(await askGateway('optimize', gatewayUrl, config, '/admin/optimize', { method: 'POST', json: bodyOf(command) })) as OptimizeResult);
  context.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : renderResult(result, config));
}

function commandOf(values: { 'dry-run'?: boolean; apply?: boolean; version?: string; rollback?: boolean; list?: boolean }): OptimizeCommand {
  const modes = (['dry-run', 'apply', 'rollback', 'list'] as const).filter((mode) => values[mode]);
  if (modes.length > 1) throw new UsageError(`optimize: choose one of --${modes.join(', --')}`);
  const mode = modes[0] ?? 'dry-run';
  if (values.version === undefined) return { mode };
  const version = Number(values.version);
  if (mode !== 'apply' || !Number.isInteger(version) || version < 1) throw new UsageError('optimize: --version <n> goes with --apply and names a saved proposal (1, 2, …)');
  return { mode, version };
}

/** The command as POST /admin/optimize's body spells it. */
function bodyOf(command: OptimizeCommand): Record<string, unknown> {
  switch (command.mode) {
    case 'dry-run':
      return { dry_run: true };
    case 'apply':
      return { apply: command.version ?? true };
    case 'rollback':
      return { rollback: true };
    case 'list':
      return { list: true };
  }
}

/** No gateway runs: the proposal store in the data directory, and the log's database for a proposal. */
async function runOnStore(config: Config, command: OptimizeCommand): Promise<OptimizeResult> {
  const store = new ProposalStore(config.paths.data_dir, configSettings(config));
  const needsLog = command.mode === 'dry-run' || (command.mode === 'apply' && command.version === undefined);
  const database = needsLog ? await openLogDatabase(config, 'optimize') : undefined;
  try {
    return await new OptimizerControl({ store, settings: optimizerSettingsOf(config), database, retrain: retrainSourceFor(config) }).run(command);
  } catch (error) {
    if (error instanceof OptimizeRefusal) throw new CliError(`optimize: ${error.message}`);
    throw error;
  } finally {
    await database?.close();
  }
}

function renderResult(result: OptimizeResult, config: Config): string {
  switch (result.mode) {
    case 'dry-run':
      return renderProposal(result.proposal);
    case 'apply': {
      const where = result.live ? 'the running gateway routes with it now' : `${join(resolve(config.paths.data_dir), 'learning', 'applied.json')}; a gateway takes it at its next start`;
      return `${renderProposal(result.proposal)}applied v${result.proposal.version} (${where})\n`;
    }
    case 'rollback': {
      const where = result.live ? 'the running gateway routes with these settings now' : 'a running gateway takes it at its next start';
      const classifier = result.settings.classifier_version === undefined ? 'shipped' : `the re-fit of v${result.settings.classifier_version}`;
      return `rolled back v${result.rolled_back}: local_share ${result.settings.local_share}; thresholds ${JSON.stringify(result.settings.escalation_thresholds)}; tier classifier ${classifier}\n(${where})\n`;
    }
    case 'list':
      if (result.proposals.length === 0) return 'no proposals saved yet\n';
      return result.proposals.map((proposal) => `v${proposal.version}  ${proposal.created_at}  ${proposal.changes.length} change(s)${proposal.version === result.applied ? '  (applied)' : ''}\n${proposalDiff(proposal)}`).join('');
  }
}
