import { Cron } from 'croner';
import type { Logger } from 'pino';
import { TIERS, type Config } from '../config/schema.js';
import type { RoutingState } from '../routing/routing-state.js';
import type { SqlSession } from '../store/sql-database.js';
import { retrainSourceFor } from './classifier-retrain.js';
import { applySettings, OptimizerControl } from './optimizer-control.js';
import { optimizerSettingsOf } from './optimizer.js';
import { ProposalStore, type LiveSettings } from './proposal-store.js';

export interface OptimizerJob {
  /** The commands of POST /admin/optimize, on this gateway's store and live routing state. */
  control: OptimizerControl;
  /** Runs the optimizer once now and applies its proposal (what the schedule does). */
  runOnce(): Promise<void>;
  stop(): void;
}

/** What config sets, before any proposal: the settings a rollback of the first version returns to. */
export function configSettings(config: Config): LiveSettings {
  const threshold = config.routing.escalation_threshold;
  return { local_share: config.routing.local_share, escalation_thresholds: Object.fromEntries(TIERS.map((tier) => [tier, threshold])) as LiveSettings['escalation_thresholds'] };
}

/**
 * The gateway's side of the optimizer: at start the applied proposal (applied.json) goes into the
 * routing state, the re-fitted tier classifier it names included; POST /admin/optimize runs
 * `control`; with a database the optimizer also runs on `learning.optimizer.schedule` and saves
 * its proposal, which it applies only with `learning.optimizer.auto_apply` (else it is pending).
 * Returns undefined when the optimizer is off.
 */
export function startOptimizer(config: Config, routing: RoutingState, logger: Logger, database?: SqlSession, flush?: () => Promise<void>): OptimizerJob | undefined {
  const optimizer = config.learning.optimizer;
  if (!optimizer.enabled) return undefined;
  const store = new ProposalStore(config.paths.data_dir, configSettings(config));
  try {
    const applied = store.applied();
    if (applied?.version !== undefined && applied.version !== null) {
      applySettings(routing, applied.settings, store, `optimizer v${applied.version}`);
      logger.info({ version: applied.version, classifier: routing.classifier?.version }, 'optimizer proposal applied at start');
    }
  } catch (error) {
    logger.warn({ err: (error as Error).message }, 'optimizer: applied.json not applied in full; config settings stay where it failed');
  }
  const control = new OptimizerControl({ store, settings: optimizerSettingsOf(config), database, routing, flush, retrain: retrainSourceFor(config) });
  const runOnce = async () => {
    const proposal = store.save(await control.propose());
    if (proposal.changes.length === 0) {
      logger.info({ version: proposal.version }, 'optimizer: nothing to change');
      return;
    }
    if (!optimizer.auto_apply) {
      // Pending: the dashboard lists it; `sluice optimize --apply --version N` applies it.
      logger.info({ version: proposal.version, changes: proposal.changes.length }, 'optimizer proposal saved, pending (learning.optimizer.auto_apply is off)');
      return;
    }
    control.apply(proposal.version);
    logger.info({ version: proposal.version, changes: proposal.changes.length }, 'optimizer proposal applied');
  };
  if (!database) return { control, runOnce, stop: () => {} };
  let job: Cron;
  try {
    // unref: the server keeps the process alive; a schedule alone must not (tests, tools).
    job = new Cron(optimizer.schedule, { protect: true, unref: true, catch: (error) => logger.warn({ err: (error as Error).message }, 'optimizer run failed') }, runOnce);
  } catch (error) {
    throw new Error(`config: learning.optimizer.schedule "${optimizer.schedule}" is not a cron pattern (${(error as Error).message})`, { cause: error });
  }
  return { control, runOnce, stop: () => job.stop() };
}
