/**
 * `make eval`: the quality validator (src/quality/) measured on the local model's real answers to
 * the labelled set (eval/quality/local-answers.jsonl, from eval/collect-local-answers.ts), each
 * labelled correct or not by its item's answer check. Per split: ROC AUC of the score for
 * correctness, pass rate, a threshold sweep (escalations, wrong answers served, good answers
 * escalated), a reliability table, and the Platt calibration fitted on train (Brier, ECE held out).
 * Reports only; exits 1 when the answers file is missing or malformed.
 *
 *   node --import tsx eval/run-quality-eval.ts [--no-embedder]
 */
import { parseArgs } from 'node:util';
import { createAnswerScorer } from '../src/quality/answer-scorer.js';
import { brierScore, expectedCalibrationError, plattProbability, reliabilityBins, rocAuc, shippedCalibration, type PlattCalibration } from '../src/quality/calibration.js';
import { withLocalEmbedder } from './local-embedder.js';
import { fitCalibration, FIT_SCORER, FIT_TIERS, scoredLocalAnswers } from './quality/fit-calibration.js';
import { TIERS } from './routing/set-item.js';
import { itemsById, readAnswers, readAnswersMeta, scoreAnswers, type ScoredAnswer } from './quality/scored-answers.js';

const SHIPPED_THRESHOLD = 0.75;
const SWEEP = [0.3, 0.5, 0.6, 0.7, SHIPPED_THRESHOLD, 0.8, 0.85, 0.9, 0.95, 1];
const SPLITS = ['train', 'heldout'] as const;

const out = (text = '') => process.stdout.write(`${text}\n`);
const percent = (share: number) => (Number.isNaN(share) ? '–' : `${(share * 100).toFixed(1)}%`);
const fixed = (value: number, digits = 3) => (Number.isNaN(value) ? '–' : value.toFixed(digits));

interface Scored {
  row: ScoredAnswer;
  /** The score with the relevance check (real local embedder) added, when measured. */
  withRelevance?: number;
}

const outcomes = (rows: readonly Scored[]) => rows.map((entry) => entry.row.passes);

function overviewTable(scopes: readonly { name: string; rows: readonly Scored[] }[], hasRelevance: boolean): string {
  const lines = [
    `| scope | split | answers | pass rate | AUC (shipped scorer) |${hasRelevance ? ' AUC (+ relevance, real embedder) |' : ''} mean score |`,
    `| --- | --- | ---: | ---: | ---: |${hasRelevance ? ' ---: |' : ''} ---: |`,
  ];
  for (const scope of scopes) {
    for (const split of SPLITS) {
      const rows = scope.rows.filter((entry) => entry.row.split === split);
      const passRate = rows.filter((entry) => entry.row.passes).length / rows.length;
      const auc = rocAuc(
        rows.map((entry) => entry.row.score),
        outcomes(rows),
      );
      const relevanceAuc = hasRelevance
        ? ` ${fixed(
            rocAuc(
              rows.map((entry) => entry.withRelevance ?? Number.NaN),
              outcomes(rows),
            ),
          )} |`
        : '';
      const mean = rows.reduce((sum, entry) => sum + entry.row.score, 0) / rows.length;
      lines.push(`| ${scope.name} | ${split} | ${rows.length} | ${percent(passRate)} | ${fixed(auc)} |${relevanceAuc} ${fixed(mean)} |`);
    }
  }
  return lines.join('\n');
}

/** Escalate below `threshold`: what that costs in escalations and what it lets through. */
function sweepTable(rows: readonly Scored[], valueOf: (entry: Scored) => number, label: string): string {
  const lines = [
    `| ${label} | escalated | wrong answers served | good answers escalated | pass rate of served |`,
    '| ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const threshold of SWEEP) {
    const escalated = rows.filter((entry) => valueOf(entry) < threshold);
    const served = rows.filter((entry) => valueOf(entry) >= threshold);
    const wrongServed = served.filter((entry) => !entry.row.passes).length;
    const goodEscalated = escalated.filter((entry) => entry.row.passes).length;
    const mark = threshold === SHIPPED_THRESHOLD ? ' (shipped)' : '';
    lines.push(
      `| < ${threshold}${mark} | ${escalated.length} (${percent(escalated.length / rows.length)}) | ${wrongServed} (${percent(wrongServed / rows.length)}) | ${goodEscalated} | ${percent(served.length ? (served.length - wrongServed) / served.length : Number.NaN)} |`,
    );
  }
  return lines.join('\n');
}

function reliabilityTable(rows: readonly Scored[], valueOf: (entry: Scored) => number): string {
  const lines = ['| score bin | answers | mean score | observed pass rate |', '| --- | ---: | ---: | ---: |'];
  for (const bin of reliabilityBins(rows.map(valueOf), outcomes(rows), 10)) {
    if (bin.items === 0) continue;
    lines.push(`| [${bin.from.toFixed(1)}, ${bin.to.toFixed(1)}${bin.to === 1 ? ']' : ')'} | ${bin.items} | ${fixed(bin.meanProbability)} | ${percent(bin.observedCorrect)} |`);
  }
  return lines.join('\n');
}

function calibrationTable(rows: readonly Scored[], calibration: PlattCalibration): string {
  const lines = ['| held out | Brier | ECE (10 bins) |', '| --- | ---: | ---: |'];
  const correct = outcomes(rows);
  const raw = rows.map((entry) => entry.row.score);
  const calibrated = raw.map((score) => plattProbability(calibration, score));
  const baseRate = correct.filter(Boolean).length / correct.length;
  lines.push(`| raw score as P(correct) | ${fixed(brierScore(raw, correct))} | ${fixed(expectedCalibrationError(raw, correct))} |`);
  lines.push(`| Platt (fitted on train) | ${fixed(brierScore(calibrated, correct))} | ${fixed(expectedCalibrationError(calibrated, correct))} |`);
  lines.push(`| constant (held-out pass rate, for reference) | ${fixed(brierScore(raw.map(() => baseRate), correct))} | 0.000 |`);
  return lines.join('\n');
}

/** Where the reasons of wrong answers that pass the shipped threshold point: what the checks miss. */
function missedTable(rows: readonly Scored[]): string {
  const missed = rows.filter((entry) => !entry.row.passes && entry.row.score >= SHIPPED_THRESHOLD);
  const byTier = new Map<string, number>();
  for (const entry of missed) byTier.set(entry.row.tier, (byTier.get(entry.row.tier) ?? 0) + 1);
  return `${missed.length} wrong answers score ≥ ${SHIPPED_THRESHOLD}: ${[...byTier].map(([tier, count]) => `${tier} ${count}`).join(', ') || 'none'}; e.g. ${missed
    .slice(0, 5)
    .map((entry) => `${entry.row.id} "${entry.row.answer.replace(/\s+/gu, ' ').slice(0, 60)}"`)
    .join('; ')}`;
}

async function withRelevanceScores(rows: readonly ScoredAnswer[]): Promise<Map<string, number>> {
  return withLocalEmbedder(async (embedder) => {
    const scorer = createAnswerScorer({ embed: async (texts) => (await embedder.embed(texts)).map((vector) => Array.from(vector)) });
    const rescored = await scoreAnswers(rows, scorer, itemsById());
    return new Map(rescored.map((row) => [row.id, row.score]));
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { 'no-embedder': { type: 'boolean', default: false } } });
  const meta = readAnswersMeta();
  const { failed } = readAnswers();
  const scoredRows = await scoredLocalAnswers();
  const relevance = values['no-embedder'] ? undefined : await withRelevanceScores(scoredRows);
  const all: Scored[] = scoredRows.map((row) => ({ row, withRelevance: relevance?.get(row.id) }));
  const fitted = all.filter((entry) => FIT_TIERS.has(entry.row.tier));
  const heldout = fitted.filter((entry) => entry.row.split === 'heldout');

  out('## Quality validator on local answers (eval/quality/local-answers.jsonl)\n');
  out(`${all.length} answers of ${meta.model}, collected ${meta.collected_at}; ${failed.length} items got no local answer (left out).`);
  out(`Scorer: ${FIT_SCORER}. Correct = the item's answer check (eval/routing/answer-check.ts).\n`);
  const tiers = TIERS.filter((tier) => all.some((entry) => entry.row.tier === tier));
  out(
    overviewTable(
      [
        { name: [...FIT_TIERS].join('+'), rows: fitted },
        ...tiers.map((tier) => ({ name: tier, rows: all.filter((entry) => entry.row.tier === tier) })),
        { name: 'all collected', rows: all },
      ],
      relevance !== undefined,
    ),
  );

  for (const split of SPLITS) {
    const rows = fitted.filter((entry) => entry.row.split === split);
    out(`\n### Threshold sweep, ${split} (${[...FIT_TIERS].join('+')}, ${rows.length} answers; escalate when the raw score is below the threshold)\n`);
    out(sweepTable(rows, (entry) => entry.row.score, 'raw score'));
  }
  for (const split of SPLITS) {
    out(`\n### Reliability, raw score, ${split}\n`);
    out(reliabilityTable(fitted.filter((entry) => entry.row.split === split), (entry) => entry.row.score));
  }
  out(`\n${missedTable(heldout)}`);
  reportCalibration(scoredRows, heldout, meta.model);
  return 0;
}

function reportCalibration(scoredRows: readonly ScoredAnswer[], heldout: readonly Scored[], model: string): void {
  let calibration: ReturnType<typeof fitCalibration>;
  try {
    calibration = fitCalibration(scoredRows, 'eval/quality/local-answers.jsonl', model);
  } catch (error) {
    out(`\nNo calibration: ${(error as Error).message}`);
    return;
  }
  const shipped = shippedCalibration('platt');
  const isStale = !shipped || shipped.a !== calibration.a || shipped.b !== calibration.b;
  out(`\n### Calibration: Platt fit on ${calibration.fitted_on.items} train answers (${[...FIT_TIERS].join('+')})\n`);
  out(`P(correct) = σ(${calibration.a} · score + ${calibration.b})${isStale ? ' — src/quality/calibration.json differs: run make train' : ' (= src/quality/calibration.json)'}\n`);
  out('Fitted on train, measured held out; AUC is unchanged by a monotone map.\n');
  out(calibrationTable(heldout, calibration));
  const calibratedOf = (entry: Scored) => plattProbability(calibration, entry.row.score);
  out('\n### Reliability, calibrated, heldout\n');
  out(reliabilityTable(heldout, calibratedOf));
  out('\n### Threshold sweep on the calibrated probability, heldout\n');
  out(sweepTable(heldout, calibratedOf, 'P(correct)'));
}

process.exitCode = await main().catch((error: unknown) => {
  process.stderr.write(`quality eval: ${(error as Error).message}\n`);
  return 1;
});
