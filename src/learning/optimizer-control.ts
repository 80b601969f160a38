import { TIERS } from '../config/schema.js';
import type { RoutingState } from '../routing/routing-state.js';
import type { SqlSession } from '../store/sql-database.js';
import type { RetrainSource } from './classifier-retrain.js';
import { applyClassifier, classifierInForce, classifierRefusal } from './classifier-swap.js';
import { buildProposal, type OptimizerSettings, type Proposal } from './optimizer.js';
import { ProposalStore, routingSettingsOf, type AppliedEntry, type LiveSettings } from './proposal-store.js';

/** What `sluice optimize` and POST /admin/optimize can be asked: the CLI's four modes, and applying a saved version. */
export type OptimizeCommand = { mode: 'dry-run' } | { mode: 'apply'; version?: number } | { mode: 'rollback' } | { mode: 'list' };

/** The answer to a command, JSON as it stands (the route sends it, the CLI renders it). */
export type OptimizeResult =
  | { mode: 'dry-run'; proposal: Proposal }
  | { mode: 'apply'; proposal: Proposal; applied: AppliedEntry; live: boolean }
  | { mode: 'rollback'; rolled_back: number; settings: LiveSettings; live: boolean }
  | { mode: 'list'; applied: number | null; proposals: Proposal[] };

/** A command the store cannot carry out (nothing to roll back, no such version): the caller's mistake. */
export class OptimizeRefusal extends Error {
  constructor(
    message: string,
    readonly isMissing = false,
  ) {
    super(message);
    this.name = 'OptimizeRefusal';
  }
}

export interface OptimizerControlOptions {
  store: ProposalStore;
  settings: OptimizerSettings;
  /** The log's database; without it only list and rollback work. */
  database?: SqlSession;
  /** A running gateway's live routing state: apply and rollback change it too. */
  routing?: RoutingState;
  /** Writes the log's queue first, so a proposal sees the requests answered a moment ago. */
  flush?: () => Promise<void>;
  /** What the tier classifier is re-fitted from (retrainSourceFor); without it a proposal says it was not done. */
  retrain?: () => RetrainSource | { why: string };
}

/**
 * Puts settings into the live routing state, each through its setter with the reason given; the
 * classifier they name comes out of its proposal in `store`.
 */
export function applySettings(routing: RoutingState, settings: LiveSettings, store: ProposalStore, reason: string): void {
  const next = routingSettingsOf(settings);
  routing.setLocalShare(next.localShare, reason);
  for (const tier of TIERS) {
    const value = next.escalationThresholds[tier];
    if (value !== undefined) routing.setEscalationThreshold(tier, value, reason);
  }
  applyClassifier(routing, settings, store, reason);
}

/**
 * The optimizer's commands, one implementation for the CLI (on the store, with no gateway
 * running), the admin route and the schedule (both inside the gateway, where applying and rolling
 * back also change the live routing state).
 */
export class OptimizerControl {
  constructor(private readonly options: OptimizerControlOptions) {}

  async run(command: OptimizeCommand): Promise<OptimizeResult> {
    const { store, routing } = this.options;
    switch (command.mode) {
      case 'list':
        return { mode: 'list', applied: store.applied()?.version ?? null, proposals: store.list() };
      case 'rollback': {
        const undone = store.rollback();
        if (!undone) throw new OptimizeRefusal('nothing to roll back (no proposal applied)');
        const settings = store.current();
        if (routing) applySettings(routing, settings, store, `optimizer rollback of v${undone.version}`);
        return { mode: 'rollback', rolled_back: undone.version, settings, live: routing !== undefined };
      }
      case 'dry-run':
        return { mode: 'dry-run', proposal: await this.propose() };
      case 'apply': {
        const proposal = command.version === undefined ? store.save(await this.propose()) : this.saved(command.version);
        return { mode: 'apply', proposal, applied: this.apply(proposal.version), live: routing !== undefined };
      }
    }
  }

  /** A fresh proposal (version 0, unsaved) against the settings in force. */
  async propose(): Promise<Proposal> {
    const { database, settings, store, routing, flush, retrain } = this.options;
    if (!database) throw new OptimizeRefusal('the optimizer reads the inference log with SQL, and this store (supabase-js) has none: set DATABASE_URL', true);
    await flush?.();
    const source = retrain?.() ?? { why: 'no routing set was given' };
    // A re-fit has to beat the classifier routing uses now, which an earlier proposal may have put in.
    const classifier = 'why' in source ? source : { ...source, inForce: classifierInForce(store, store.current()) };
    return buildProposal(database, settings, routing?.snapshot() ?? routingSettingsOf(store.current()), new Date(), classifier);
  }

  /** Records the saved version as applied and, in a gateway, puts its settings into routing. */
  apply(version: number): AppliedEntry {
    const { store, routing } = this.options;
    const refusal = routing && store.get(version).classifier_model && classifierRefusal(routing);
    if (refusal) throw new OptimizeRefusal(`proposal ${version} changes the tier classifier, and ${refusal}`);
    const entry = store.apply(version);
    if (routing) applySettings(routing, entry.settings, store, `optimizer v${version}`);
    return entry;
  }

  private saved(version: number): Proposal {
    try {
      return this.options.store.get(version);
    } catch (error) {
      throw new OptimizeRefusal((error as Error).message, true);
    }
  }
}

/** POST /admin/optimize's handler: a gateway's control, run. */
export type OptimizeRequests = (command: OptimizeCommand) => Promise<OptimizeResult>;
