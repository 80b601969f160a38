import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tier } from '../config/schema.js';
import type { RoutingSettings } from '../routing/routing-state.js';
import type { Proposal } from './optimizer.js';

/** The routing settings a proposal sets, as applied.json spells them. */
export interface LiveSettings {
  local_share: number;
  escalation_thresholds: Record<Tier, number>;
  /** The saved proposal whose re-fitted classifier_model is in force; absent: the shipped classifier. */
  classifier_version?: number;
}

export interface AppliedEntry {
  version: number;
  applied_at: string;
  /** The settings once this version was applied… */
  settings: LiveSettings;
  /** …and the ones before it, which a rollback restores exactly. */
  previous: LiveSettings;
}

/** applied.json: the version in force (null after rolling back the first) and the ones under it. */
export interface AppliedFile {
  version: number | null;
  settings: LiveSettings;
  /** Applied versions, oldest first; the last is the one in force. */
  stack: AppliedEntry[];
}

export function liveSettingsOf(settings: RoutingSettings): LiveSettings {
  return { local_share: settings.localShare, escalation_thresholds: { ...settings.escalationThresholds } };
}

export function routingSettingsOf(settings: LiveSettings): RoutingSettings {
  return { localShare: settings.local_share, escalationThresholds: { ...settings.escalation_thresholds } };
}

/**
 * Proposals as numbered JSON files under `<data_dir>/learning/proposals/` (0001.json, …), never
 * changed once written, and `<data_dir>/learning/applied.json`, which says which one is in force.
 * `baseline` is what config sets: the settings in force while nothing has been applied.
 */
export class ProposalStore {
  private readonly root: string;
  private readonly proposals: string;

  constructor(
    dataDir: string,
    private readonly baseline: LiveSettings,
  ) {
    this.root = join(dataDir, 'learning');
    this.proposals = join(this.root, 'proposals');
  }

  /** Saves the proposal under the next version and returns it with that version. */
  save(proposal: Proposal): Proposal {
    mkdirSync(this.proposals, { recursive: true });
    const version = Math.max(0, ...this.versions()) + 1;
    const saved = { ...proposal, version };
    writeAtomically(join(this.proposals, fileName(version)), saved);
    return saved;
  }

  list(): Proposal[] {
    return this.versions().map((version) => this.get(version));
  }

  get(version: number): Proposal {
    const path = join(this.proposals, fileName(version));
    if (!existsSync(path)) throw new Error(`no proposal ${version} under ${this.proposals}`);
    return JSON.parse(readFileSync(path, 'utf8')) as Proposal;
  }

  applied(): AppliedFile | undefined {
    const path = join(this.root, 'applied.json');
    return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as AppliedFile) : undefined;
  }

  /** The settings in force: the last applied version's, or config's. */
  current(): LiveSettings {
    return this.applied()?.settings ?? this.baseline;
  }

  /** Puts the proposal's changes on top of the settings in force and records it as applied. */
  apply(version: number, now: Date = new Date()): AppliedEntry {
    const proposal = this.get(version);
    const previous = this.current();
    const settings: LiveSettings = { ...previous, escalation_thresholds: { ...previous.escalation_thresholds } };
    for (const change of proposal.changes) {
      if (change.setting === 'local_share') settings.local_share = change.to;
      else if (change.setting === 'tier_classifier' && proposal.classifier_model) settings.classifier_version = version;
      else if (change.tier) settings.escalation_thresholds[change.tier] = change.to;
    }
    const entry: AppliedEntry = { version, applied_at: now.toISOString(), settings, previous };
    const stack = [...(this.applied()?.stack ?? []), entry];
    this.writeApplied({ version, settings, stack });
    return entry;
  }

  /** Back to the settings before the last applied version; returns what was undone, or undefined. */
  rollback(): AppliedEntry | undefined {
    const applied = this.applied();
    const last = applied?.stack.at(-1);
    if (!applied || !last) return undefined;
    const stack = applied.stack.slice(0, -1);
    this.writeApplied({ version: stack.at(-1)?.version ?? null, settings: last.previous, stack });
    return last;
  }

  private versions(): number[] {
    if (!existsSync(this.proposals)) return [];
    return readdirSync(this.proposals)
      .map((name) => /^(\d{4,})\.json$/.exec(name)?.[1])
      .filter((digits): digits is string => digits !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  private writeApplied(file: AppliedFile): void {
    mkdirSync(this.root, { recursive: true });
    writeAtomically(join(this.root, 'applied.json'), file);
  }
}

const fileName = (version: number) => `${String(version).padStart(4, '0')}.json`;

function writeAtomically(path: string, value: unknown): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(temporary, path);
}

const usd = (value: number | null) => (value === null ? 'cost unknown' : `${value >= 0 ? '+' : '-'}$${Math.abs(value).toFixed(6)}/request`);
const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(4)}`;

/** The proposal's changes as a diff: one line per setting, from → to, with its expected effect. */
export function proposalDiff(proposal: Proposal): string {
  if (proposal.changes.length === 0) return '  (no changes)\n';
  return proposal.changes
    .map((change) => {
      const setting = change.tier ? `${change.setting}[${change.tier}]` : change.setting;
      return `- ${setting}: ${change.from}\n+ ${setting}: ${change.to}\n    expected: ${usd(change.expected_cost_per_request_delta_usd)}, quality ${signed(change.expected_quality_delta)}\n    why: ${change.reason}\n`;
    })
    .join('');
}

/** The proposal as an operator reads it: the window, the evidence per tier, the diff, what is not done. */
export function renderProposal(proposal: Proposal): string {
  const lines = [
    `optimizer proposal ${proposal.version === 0 ? '(dry run, not saved)' : `v${proposal.version}`} — ${proposal.created_at}`,
    `window: ${proposal.window.from} → ${proposal.window.to} (${proposal.window.days} days), ${proposal.evidence.requests} requests`,
    `vendor cost per escalated request: ${proposal.evidence.vendor_cost_per_escalation_usd === null ? 'unknown' : `$${proposal.evidence.vendor_cost_per_escalation_usd.toFixed(6)}`}`,
    '',
    'evidence per tier:',
  ];
  for (const tier of proposal.evidence.tiers) {
    lines.push(
      `  ${tier.tier}: ${tier.localAnswered} local answered, ${tier.localEscalated} escalated; labels ${tier.labels.feedback} feedback + ${tier.labels.shadow} shadow (${tier.labels.good} good)`,
      `    threshold ${tier.current.threshold} → ${tier.proposed.threshold}; escalation ${tier.current.escalation_rate} → ${tier.proposed.escalation_rate}; expected quality ${tier.current.expected_quality} → ${tier.proposed.expected_quality}`,
      `    ${tier.reason}`,
    );
  }
  if (proposal.evidence.tiers.length === 0) lines.push('  (no local answers in the window)');
  const share = proposal.evidence.local_share;
  lines.push(`local_share: ${share.current} now; labelled local quality at the proposed thresholds ${share.labelled_quality_at_proposed_thresholds ?? 'unknown'} (${share.labels} labels)`);
  const classifier = proposal.evidence.classifier;
  if (classifier) {
    const labels = Object.entries(classifier.examples_by_label).map(([label, count]) => `${label} ${count}`).join(', ') || 'none';
    const after = classifier.accuracy_after === null ? 'not re-fitted' : String(classifier.accuracy_after);
    lines.push(`tier classifier: ${classifier.new_examples} labelled prompts (${labels}); held-out accuracy of ${classifier.heldout_items} items ${classifier.accuracy_before} (${classifier.in_force}) → ${after}`);
  }
  lines.push('', 'changes:');
  return `${lines.join('\n')}\n${proposalDiff(proposal)}\nnot done: ${proposal.not_done.join('; ')}\n`;
}
