/**
 * The calibration fit, shared by scripts/fit-quality-calibration.ts (which writes the artefact),
 * eval/run-quality-eval.ts (which reports it) and the unit test (which checks the shipped
 * artefact is what this gives on the committed answers file).
 */
import { passesCheck } from '../routing/answer-check.js';
import type { SetTier } from '../routing/set-item.js';
import { createAnswerScorer } from '../../src/quality/answer-scorer.js';
import { fitPlatt, type CalibrationArtefact } from '../../src/quality/calibration.js';
import { ANSWERS_FILE, itemsById, readAnswers, readAnswersMeta, scoreAnswers, type ScoredAnswer } from './scored-answers.js';

/**
 * The tiers whose local answers the fit learns from: those the local model answers in
 * production (simple first in its chain, medium under validation). A local answer to a
 * high-tier prompt is rare in traffic and would pull the map toward its failures.
 */
export const FIT_TIERS: ReadonlySet<SetTier> = new Set(['simple', 'medium']);
/** What scored the answers: the scorer src/gateway.ts builds. */
export const FIT_SCORER = 'createAnswerScorer() as src/gateway.ts builds it (no embedder)';
/** Digits kept in the artefact, so a refit on the same file gives the same bytes. */
const DIGITS = 6;

const rounded = (value: number) => Number(value.toFixed(DIGITS));

/** The answers scored by the shipped scorer, `passes` recomputed from each item's current check. */
export async function scoredLocalAnswers(file = ANSWERS_FILE): Promise<ScoredAnswer[]> {
  const items = itemsById();
  const { answers } = readAnswers(file);
  const relabelled = answers.map((row) => ({ ...row, passes: passesCheck(items.get(row.id)!.check, row.answer) }));
  return scoreAnswers(relabelled, createAnswerScorer(), items);
}

/** Platt scaling fitted on the train split of FIT_TIERS. */
export function fitCalibration(scored: readonly ScoredAnswer[], answersFile: string, model: string): CalibrationArtefact {
  const train = scored.filter((row) => row.split === 'train' && FIT_TIERS.has(row.tier));
  const fit = fitPlatt(
    train.map((row) => row.score),
    train.map((row) => row.passes),
  );
  return {
    method: 'platt',
    a: rounded(fit.a),
    b: rounded(fit.b),
    fitted_on: { answers: answersFile, model, scorer: FIT_SCORER, split: 'train', items: train.length, correct: train.filter((row) => row.passes).length },
  };
}

/** The artefact the committed answers file gives: what `make train` writes. */
export async function fitShippedCalibration(): Promise<CalibrationArtefact> {
  const scored = await scoredLocalAnswers();
  return fitCalibration(scored, 'eval/quality/local-answers.jsonl', readAnswersMeta().model);
}
