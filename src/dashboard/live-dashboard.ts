import type { Config } from '../config/schema.js';
import type { DriftAlert } from '../learning/drift-monitor.js';
import { configSettings } from '../learning/optimizer-job.js';
import { ProposalStore } from '../learning/proposal-store.js';
import type { ReportPeriod } from '../learning/savings-report.js';
import type { SqlSession } from '../store/sql-database.js';
import { buildDashboardData, type DashboardData, type DashboardProposal } from './dashboard-data.js';

/** The dashboard's data for a period, as GET /admin/dashboard/data asks for it. */
export type DashboardRequests = (period: ReportPeriod) => Promise<DashboardData>;

export interface LiveDashboardParts {
  /** The log's queue written first, so a request answered a moment ago is on the charts. */
  flush?: () => Promise<void>;
  /** The ledger's global month so far. */
  ledgerSpentUsd?: () => Promise<number | undefined>;
  /** The drift monitor's alerts; none when drift detection is off. */
  driftAlerts?: () => readonly DriftAlert[];
}

/**
 * The gateway's dashboard: its database's rollup, its ledger, its drift monitor and the optimizer's
 * proposal files under `paths.data_dir`. Undefined without a SQL database (supabase-js).
 */
export function liveDashboard(database: SqlSession | undefined, config: Config, parts: LiveDashboardParts = {}): DashboardRequests | undefined {
  if (!database) return undefined;
  const proposals = new ProposalStore(config.paths.data_dir, configSettings(config));
  const settings = { targets: config.targets, budget: config.budget };
  return async (period) => {
    await parts.flush?.();
    return buildDashboardData(database, { ...settings, period }, {
      ledgerSpentUsd: parts.ledgerSpentUsd,
      driftAlerts: parts.driftAlerts && (() => parts.driftAlerts!().map((alert) => ({ signal: alert.signal, score: alert.score, p_value: alert.pValue ?? null, at: alert.at.toISOString() }))),
      pendingProposals: () => pendingProposals(proposals),
    });
  };
}

/** Saved proposals with changes, newer than the version in force and never applied: what an operator may still apply. */
export function pendingProposals(store: ProposalStore): DashboardProposal[] {
  const applied = store.applied();
  const appliedVersions = new Set(applied?.stack.map((entry) => entry.version) ?? []);
  const inForce = applied?.version ?? 0;
  return store
    .list()
    .filter((proposal) => proposal.changes.length > 0 && proposal.version > inForce && !appliedVersions.has(proposal.version))
    .map((proposal) => ({
      version: proposal.version,
      created_at: proposal.created_at,
      changes: proposal.changes.map((change) => ({ setting: change.setting, tier: change.tier ?? null, from: change.from, to: change.to, reason: change.reason })),
    }));
}
