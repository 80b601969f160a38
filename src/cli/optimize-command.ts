import { join, resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { configSettings } from '../learning/optimizer-job.js';
import { buildProposal, optimizerSettingsOf } from '../learning/optimizer.js';
import { ProposalStore, proposalDiff, renderProposal, routingSettingsOf } from '../learning/proposal-store.js';
import { CliError, parseCommandArgs, UsageError, type CommandContext } from './command-context.js';
import { heldPgliteMessage, isGatewayUp, localGatewayUrl, openLogDatabase, usesPglite } from './log-database.js';

export const OPTIMIZE_USAGE = `usage: sluice optimize [--dry-run | --apply | --rollback | --list] [--json] [--config <file>]

Re-fits each tier's escalation threshold and local_share to the labels (feedback, shadow labels)
of the last learning.optimizer.window_days and prints the proposal: the evidence, and each setting
from → to with its expected cost and quality change.

  --dry-run    print the proposal, write nothing (the default)
  --apply      save the proposal under ${'${data_dir}'}/learning/proposals/ and apply it
               (applied.json; a gateway takes it at its next start)
  --rollback   back to the settings before the last applied proposal
  --list       the saved proposals, which one is applied
  --json       JSON instead of text

The embedded PGlite database is read only while no gateway has it open (PGlite allows one
process only); stop the gateway first, or use Postgres (DATABASE_URL).`;


export async function runOptimize(args: string[], context: CommandContext): Promise<void> {
  const { values, positionals } = parseCommandArgs(args, {
    'dry-run': { type: 'boolean', default: false },
    apply: { type: 'boolean', default: false },
    rollback: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    config: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`optimize: unexpected argument "${positionals[0]}"`);
  const modes = (['dry-run', 'apply', 'rollback', 'list'] as const).filter((mode) => values[mode]);
  if (modes.length > 1) throw new UsageError(`optimize: choose one of --${modes.join(', --')}`);
  const mode = modes[0] ?? 'dry-run';
  const config = loadConfig(values.config ? { ...context.env, SLUICE_CONFIG: values.config } : context.env);
  const store = new ProposalStore(config.paths.data_dir, configSettings(config));
  const write = (text: string, json: unknown) => context.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : text);

  if (mode === 'list') {
    const applied = store.applied();
    const proposals = store.list();
    const text = proposals.length === 0 ? 'no proposals saved yet\n' : proposals.map((proposal) => `v${proposal.version}  ${proposal.created_at}  ${proposal.changes.length} change(s)${proposal.version === applied?.version ? '  (applied)' : ''}\n${proposalDiff(proposal)}`).join('');
    write(text, { applied: applied?.version ?? null, proposals });
    return;
  }
  if (mode === 'rollback') {
    const undone = store.rollback();
    if (!undone) throw new CliError('optimize: nothing to roll back (no proposal applied)');
    const now = store.current();
    write(`rolled back v${undone.version}: local_share ${undone.settings.local_share} → ${now.local_share}; thresholds ${JSON.stringify(now.escalation_thresholds)}\n(a running gateway takes it at its next start)\n`, { rolled_back: undone.version, settings: now });
    return;
  }
  await refuseHeldPglite(config);
  const database = await openLogDatabase(config, 'optimize');
  try {
    const proposal = await buildProposal(database, optimizerSettingsOf(config), routingSettingsOf(store.current()));
    if (mode === 'dry-run') {
      write(renderProposal(proposal), proposal);
      return;
    }
    const saved = store.save(proposal);
    store.apply(saved.version);
    write(`${renderProposal(saved)}applied v${saved.version} (${join(resolve(config.paths.data_dir), 'learning', 'applied.json')}); a running gateway takes it at its next start\n`, saved);
  } finally {
    await database.close();
  }
}


/**
 * A running gateway's PGlite is never opened a second time (a second process reads stale pages
 * and can corrupt the directory), as in `sluice report`. There is no admin route for the
 * optimizer yet, so the command refuses rather than asks.
 */
async function refuseHeldPglite(config: Config): Promise<void> {
  if (!usesPglite(config)) return;
  const url = localGatewayUrl(config);
  if (await isGatewayUp(url)) throw new CliError(heldPgliteMessage('optimize', config, url, 'stop it first, or use Postgres (DATABASE_URL)'));
}
