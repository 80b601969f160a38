/**
 * `make eval`: the router scored on the labelled set (eval/routing/*.jsonl), in process, with no
 * network. It reports; it exits 1 only when the set itself is malformed.
 *
 *   node --import tsx eval/run-routing-eval.ts [--config path/to/sluice.yaml] [--repetitions 200]
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { OPEN_TENANT } from '../src/auth/tenant.js';
import { buildChain, requiredCapabilities } from '../src/routing/candidates.js';
import { timeDecisions } from './decision-timing.js';
import { buildRouterUnderTest, type RouterUnderTest } from './router-under-test.js';
import { figuresOf, oracleTokens, planWeighted, tokensCostUsd, TRAITS, unweighted, type ItemOutcome, type Scope, type ScopeFigures } from './routing-metrics.js';
import { formatCounts, loadRoutingSet, type LoadedItem } from './routing/check-set.js';
import { TIERS } from './routing/set-item.js';

const BASELINE_MODEL = 'claude-3-5-sonnet-latest';
const REQUESTS_PER_MONTH = 10_000;

const percent = (share: number) => (Number.isNaN(share) ? '–' : `${(share * 100).toFixed(1)}%`);
const usd = (amount: number) => `$${amount < 1 ? amount.toFixed(5) : amount.toFixed(2)}`;
const out = (text = '') => process.stdout.write(`${text}\n`);

function outcomeOf(item: LoadedItem, router: RouterUnderTest): ItemOutcome {
  const needs = requiredCapabilities(item.request);
  const plan = router.policy.planChat(item.request, needs, OPEN_TENANT);
  const first = plan.chain[0];
  // The labelled tier's chain, built by the same rules (capabilities, availability) the router's is.
  const labelledFirst = buildChain(router.config.routing.tiers[item.tier] ?? [], router.catalog, { needs, isAllowed: () => true })[0] ?? first;
  const tokens = oracleTokens(item);
  const priced = (modelId: string) => tokensCostUsd(router.model(modelId).price, tokens);
  return {
    item,
    decided: plan.tier ?? 'simple',
    reason: plan.routeReason ?? '(none)',
    firstModel: first.modelId,
    isLocalFirst: router.catalog.isLocal(first.modelId),
    promptTokens: tokens.promptTokens,
    completionTokens: tokens.completionTokens,
    costUsd: priced(first.modelId),
    baselineCostUsd: priced(BASELINE_MODEL),
    labelled: { firstModel: labelledFirst.modelId, isLocalFirst: router.catalog.isLocal(labelledFirst.modelId), costUsd: priced(labelledFirst.modelId) },
  };
}

function confusionTable(scope: Scope, figures: ScopeFigures, asShare: boolean): string {
  const cell = (value: number) => (asShare ? percent(value) : String(value));
  const lines = [`| label \\ decided | ${TIERS.join(' | ')} | items | recall |`, `| --- | ${TIERS.map(() => '---:').join(' | ')} | ---: | ---: |`];
  for (const label of TIERS) {
    const row = figures.confusion[label];
    const total = TIERS.reduce((sum, tier) => sum + row[tier], 0);
    const items = scope.outcomes.filter((outcome) => outcome.item.tier === label).length;
    lines.push(`| ${label} | ${TIERS.map((tier) => cell(row[tier])).join(' | ')} | ${items} | ${percent(total > 0 ? row[label] / total : Number.NaN)} |`);
  }
  return lines.join('\n');
}

function traitTable(outcomes: readonly ItemOutcome[]): string {
  const lines = ['| items with | items | tier accuracy | routed local |', '| --- | ---: | ---: | ---: |'];
  for (const trait of TRAITS) {
    const subset = outcomes.filter((outcome) => trait.has(outcome));
    const figures = figuresOf(unweighted(trait.name, subset));
    lines.push(`| ${trait.name} | ${subset.length} | ${percent(figures.tierAccuracy)} | ${percent(figures.localShare)} |`);
  }
  return lines.join('\n');
}

function reasonTable(outcomes: readonly ItemOutcome[]): string {
  const reasons = [...new Set(outcomes.map((outcome) => outcome.reason))].sort();
  const lines = [`| rule that fired | items | ${TIERS.map((tier) => `labelled ${tier}`).join(' | ')} |`, `| --- | ---: | ${TIERS.map(() => '---:').join(' | ')} |`];
  for (const reason of reasons) {
    const subset = outcomes.filter((outcome) => outcome.reason === reason);
    lines.push(`| ${reason} | ${subset.length} | ${TIERS.map((tier) => subset.filter((outcome) => outcome.item.tier === tier).length).join(' | ')} |`);
  }
  return lines.join('\n');
}

function summaryTable(columns: readonly { title: string; figures: ScopeFigures }[]): string {
  const rows: readonly [string, (figures: ScopeFigures) => string][] = [
    ['items', (f) => String(f.items)],
    ['tier accuracy', (f) => percent(f.tierAccuracy)],
    ['projected local share (chain starts local)', (f) => percent(f.localShare)],
    ['simple items routed local', (f) => percent(f.simpleRoutedLocal)],
    ['cost per request, as routed', (f) => usd(f.costPerRequestUsd)],
    [`cost per request, all to ${BASELINE_MODEL}`, (f) => usd(f.baselineCostPerRequestUsd)],
    [`monthly at ${REQUESTS_PER_MONTH.toLocaleString('en-US')} requests, as routed`, (f) => usd(f.costPerRequestUsd * REQUESTS_PER_MONTH)],
    [`monthly at ${REQUESTS_PER_MONTH.toLocaleString('en-US')} requests, all to ${BASELINE_MODEL}`, (f) => usd(f.baselineCostPerRequestUsd * REQUESTS_PER_MONTH)],
    ['saving against all-Sonnet', (f) => percent(1 - f.costPerRequestUsd / f.baselineCostPerRequestUsd)],
    ['if every item went to its labelled tier: local share', (f) => percent(f.labelledLocalShare)],
    ['if every item went to its labelled tier: cost per request', (f) => usd(f.labelledCostPerRequestUsd)],
  ];
  return [
    `| routing (config/sluice.yaml defaults) | ${columns.map((column) => column.title).join(' | ')} |`,
    `| --- | ${columns.map(() => '---:').join(' | ')} |`,
    ...rows.map(([label, value]) => `| ${label} | ${columns.map((column) => value(column.figures)).join(' | ')} |`),
  ].join('\n');
}

function main(): number {
  const { values } = parseArgs({ options: { config: { type: 'string' }, repetitions: { type: 'string', default: '200' } } });
  const repetitions = Math.max(1, Number.parseInt(values.repetitions ?? '200', 10) || 200);

  const set = loadRoutingSet();
  out('## The labelled set (eval/routing/*.jsonl)\n');
  out(formatCounts(set.items));
  if (set.problems.length > 0) {
    for (const problem of set.problems) process.stderr.write(`routing set: ${problem}\n`);
    process.stderr.write(`routing set MALFORMED (${set.problems.length} problems): nothing evaluated\n`);
    return 1;
  }

  const router = buildRouterUnderTest(values.config);
  router.model(BASELINE_MODEL);
  const outcomes = set.items.map((item) => outcomeOf(item, router));
  const train = unweighted('train', outcomes.filter((outcome) => outcome.item.split === 'train'));
  const heldout = unweighted('held-out', outcomes.filter((outcome) => outcome.item.split === 'heldout'));
  const mix = planWeighted('plan mix', outcomes);
  const [trainFigures, heldoutFigures, mixFigures] = [train, heldout, mix].map(figuresOf);

  out(`\n## Router: ${values.config ?? 'config/sluice.yaml'}, every configured backend up, open tenant, model "auto"`);
  out('\n### Confusion, train (rows = label, columns = decided tier)\n');
  out(confusionTable(train, trainFigures, false));
  out('\n### Confusion, held-out\n');
  out(confusionTable(heldout, heldoutFigures, false));
  out('\n### Confusion, plan mix (share of traffic: 60% simple, 20% medium, 15% high+creative, 5% brand)\n');
  out(confusionTable(mix, mixFigures, true));
  out('\n### Where it goes wrong (all items, unweighted)\n');
  out(traitTable(outcomes));
  out('\n### Which rule decided (all items)\n');
  out(reasonTable(outcomes));

  const requests = set.items.map((item) => item.request);
  const timing = timeDecisions(requests, (request) => router.policy.planChat(request, requiredCapabilities(request), OPEN_TENANT), repetitions);
  const ratio = (decision: number, baseline: number) => (baseline > 0 ? `${(decision / baseline).toFixed(1)}×` : '–');
  const cpu = cpus();
  const machine = `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, Node ${process.version}`;
  out(`\n### Decision time (${timing.calls.toLocaleString('en-US')} calls: ${requests.length} requests × ${repetitions}; ${machine})\n`);
  out('| | p50 | p99 |');
  out('| --- | ---: | ---: |');
  out(`| policy.planChat (tier, chain, rollout draw) | ${timing.decision.p50Us.toFixed(2)} µs | ${timing.decision.p99Us.toFixed(2)} µs |`);
  out(`| baseline: JSON.stringify of the same request | ${timing.baseline.p50Us.toFixed(2)} µs | ${timing.baseline.p99Us.toFixed(2)} µs |`);
  out(`| ratio | ${ratio(timing.decision.p50Us, timing.baseline.p50Us)} | ${ratio(timing.decision.p99Us, timing.baseline.p99Us)} |`);

  out('\n## Summary (paste into the README)\n');
  out(
    summaryTable([
      { title: `train (${trainFigures.items})`, figures: trainFigures },
      { title: `held-out (${heldoutFigures.items})`, figures: heldoutFigures },
      { title: 'plan mix 60/20/15/5', figures: mixFigures },
    ]),
  );
  out(
    `\nPrices: the first candidate's from the config; prompt tokens counted with o200k (src/pipeline/usage-estimate.ts) plus tool and schema definitions; ` +
      `output tokens = the oracle answer's, which are short, so the costs are a floor. The labelled-tier rows are what a router that found ` +
      `every label would do: a local share above theirs means harder items are being answered locally (see the confusion matrices). Decision time p50 ${timing.decision.p50Us.toFixed(1)} µs ` +
      `(${ratio(timing.decision.p50Us, timing.baseline.p50Us)} a JSON.stringify of the request), p99 ${timing.decision.p99Us.toFixed(1)} µs; ${machine}.`,
  );
  return 0;
}

process.exitCode = main();
