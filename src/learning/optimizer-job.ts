import { Cron } from 'croner';
import type { Logger } from 'pino';
import { TIERS, type Config } from '../config/schema.js';
import type { RoutingState } from '../routing/routing-state.js';
import type { SqlSession } from '../store/sql-database.js';
import { buildProposal, optimizerSettingsOf } from './optimizer.js';
import { ProposalStore, routingSettingsOf, type LiveSettings } from './proposal-store.js';

export interface OptimizerJob {
  /** Runs the optimizer once now and applies its proposal (what the schedule does). */
  runOnce(): Promise<void>;
  stop(): void;
}

/** What config sets, before any proposal: the settings a rollback of the first version returns to. */
export function configSettings(config: Config): LiveSettings {
  const threshold = config.routing.escalation_threshold;
  return { local_share: config.routing.local_share, escalation_thresholds: Object.fromEntries(TIERS.map((tier) => [tier, threshold])) as LiveSettings['escalation_thresholds'] };
}

/** Puts settings into the live routing state, each through its setter with the reason given. */
export function applySettings(routing: RoutingState, settings: LiveSettings, reason: string): void {
  const next = routingSettingsOf(settings);
  routing.setLocalShare(next.localShare, reason);
  for (const tier of TIERS) {
    const value = next.escalationThresholds[tier];
    if (value !== undefined) routing.setEscalationThreshold(tier, value, reason);
  }
}

/**
 * The gateway's side of the optimizer: at start the applied proposal (applied.json) goes into the
 * routing state; with `learning.optimizer.auto_apply` (and a database) the optimizer runs on
 * `learning.optimizer.schedule` and applies what it proposes. Returns undefined when nothing runs.
 */
export function startOptimizer(config: Config, routing: RoutingState, logger: Logger, database?: SqlSession): OptimizerJob | undefined {
  const optimizer = config.learning.optimizer;
  if (!optimizer.enabled) return undefined;
  const store = new ProposalStore(config.paths.data_dir, configSettings(config));
  try {
    const applied = store.applied();
    if (applied?.version !== undefined && applied.version !== null) {
      applySettings(routing, applied.settings, `optimizer v${applied.version}`);
      logger.info({ version: applied.version }, 'optimizer proposal applied at start');
    }
  } catch (error) {
    logger.warn({ err: (error as Error).message }, 'optimizer: applied.json not read; config settings stay');
  }
  if (!optimizer.auto_apply || !database) return undefined;
  const runOnce = async () => {
    const proposal = store.save(await buildProposal(database, optimizerSettingsOf(config), routing.snapshot()));
    if (proposal.changes.length === 0) {
      logger.info({ version: proposal.version }, 'optimizer: nothing to change');
      return;
    }
    const entry = store.apply(proposal.version);
    applySettings(routing, entry.settings, `optimizer v${proposal.version}`);
    logger.info({ version: proposal.version, changes: proposal.changes.length }, 'optimizer proposal applied');
  };
  let job: Cron;
  try {
    job = new Cron(optimizer.schedule, { protect: true, catch: (error) => logger.warn({ err: (error as Error).message }, 'optimizer run failed') }, runOnce);
  } catch (error) {
    throw new Error(`config: learning.optimizer.schedule "${optimizer.schedule}" is not a cron pattern (${(error as Error).message})`, { cause: error });
  }
  return { runOnce, stop: () => job.stop() };
}
