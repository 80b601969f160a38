/**
 * The collected local answers (eval/quality/local-answers.jsonl, written by
 * eval/collect-local-answers.ts) joined to their items and scored by a quality scorer, for the
 * quality eval and the calibration fit. An answer is scored against the item's request, as the
 * gateway scores the completion it got back.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ChatCompletion, FinishReason } from '../../adapters/spec/index.js';
import type { QualityScorer } from '../../src/quality/quality-scorer.js';
import { loadRoutingSet, type LoadedItem } from '../routing/check-set.js';
import type { SetTier } from '../routing/set-item.js';

export const ANSWERS_FILE = fileURLToPath(new URL('local-answers.jsonl', import.meta.url));
export const ANSWERS_META_FILE = fileURLToPath(new URL('local-answers.meta.json', import.meta.url));

/** One line of the answers file (the fields this reader needs). */
export interface CollectedAnswer {
  id: string;
  split: 'train' | 'heldout';
  tier: SetTier;
  answer: string;
  finish_reason?: string;
  latency_ms: number;
  passes: boolean;
  error?: string;
}

export interface ScoredAnswer extends CollectedAnswer {
  score: number;
  reasons: string[];
}

/** Every answer line, in file order; lines that are errors (no answer came back) are returned apart. */
export function readAnswers(file = ANSWERS_FILE): { answers: CollectedAnswer[]; failed: CollectedAnswer[] } {
  const rows = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as CollectedAnswer);
  return { answers: rows.filter((row) => row.error === undefined), failed: rows.filter((row) => row.error !== undefined) };
}

export function readAnswersMeta(file = ANSWERS_META_FILE): { model: string; collected_at: string } {
  return JSON.parse(readFileSync(file, 'utf8')) as { model: string; collected_at: string };
}

function completionOf(row: CollectedAnswer): ChatCompletion {
  return {
    id: `chatcmpl-${row.id}`,
    object: 'chat.completion',
    created: 0,
    model: 'local',
    choices: [{ index: 0, message: { role: 'assistant', content: row.answer, refusal: null }, finish_reason: (row.finish_reason ?? 'stop') as FinishReason, logprobs: null }],
  };
}

/** Scores each answer with `scorer` against its item's request, one at a time, in order. */
export async function scoreAnswers(answers: readonly CollectedAnswer[], scorer: QualityScorer, items: ReadonlyMap<string, LoadedItem> = itemsById()): Promise<ScoredAnswer[]> {
  const scored: ScoredAnswer[] = [];
  for (const row of answers) {
    const item = items.get(row.id);
    if (!item) throw new Error(`answers file: ${row.id} is not in the labelled set`);
    const verdict = await scorer.score(item.request, completionOf(row));
    scored.push({ ...row, score: verdict.score, reasons: verdict.reasons });
  }
  return scored;
}

export function itemsById(): Map<string, LoadedItem> {
  const set = loadRoutingSet();
  if (set.problems.length > 0) throw new Error(`routing set is malformed: ${set.problems[0]}`);
  return new Map(set.items.map((item) => [item.id, item]));
}
