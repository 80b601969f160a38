import type { QualityCheck } from './quality-scorer.js';
import { tokensOf, viewOf } from './answer-view.js';
import { ramp } from './score-shape.js';

/**
 * Output no reader can use whatever was asked: nothing, a cut-off answer, a model stuck in a loop.
 * Small local models fail this way far more often than vendors, and it is cheap to see.
 */

/** Nothing but whitespace, punctuation or leftover special tokens, and no tool call either. */
export const emptyCheck: QualityCheck = {
  name: 'empty',
  weight: 1,
  hard: true,
  run(request, answer) {
    const view = viewOf(request, answer);
    if (view.hasToolCalls) return 1;
    const visible = view.text.replace(/<\|[^|]*\|>|<\/?s>/g, '');
    return /[\p{L}\p{N}]/u.test(visible) ? 1 : 0;
  },
};

/**
 * `finish_reason: 'length'`: the model ran out of room mid-answer. When the client set the limit
 * itself the next candidate is bound by the same limit, so escalating would buy nothing.
 */
export const truncationCheck: QualityCheck = {
  name: 'truncated',
  weight: 1,
  hard: true,
  run(request, answer) {
    const view = viewOf(request, answer);
    if (view.finishReason !== 'length') return 1;
    return view.hasClientLimit ? undefined : 0;
  },
};

/** Below this many tokens an answer is too short to loop, and "no, no, no" may be the answer. */
const MIN_TOKENS = 16;
/** Fenced code repeats itself legitimately (braces, similar lines): only prose is looked at. */
const FENCE = /```[\s\S]*?(?:```|$)/g;

/**
 * Heavy repetition: the share of repeated 4-grams, and the same line said three times or more.
 * Ordinary prose repeats under a tenth of its 4-grams; a model in a loop repeats most of them.
 */
export const repetitionCheck: QualityCheck = {
  name: 'repetition',
  weight: 1,
  hard: true,
  run(request, answer) {
    const view = viewOf(request, answer);
    // Structured output repeats its keys by design; the format check judges it.
    if (request.response_format && request.response_format.type !== 'text') return undefined;
    const prose = view.text.replace(FENCE, '\n');
    const tokens = tokensOf(prose.toLowerCase());
    if (tokens.length < MIN_TOKENS) return undefined;
    const score = Math.min(ngramScore(tokens), lineScore(prose));
    return score >= 1 ? 1 : { score, reason: 'repetition' };
  },
};

/** 1 up to a quarter of 4-grams repeated, 0 from 60%. */
function ngramScore(tokens: readonly string[]): number {
  const seen = new Set<string>();
  let repeated = 0;
  const total = tokens.length - 3;
  for (let index = 0; index < total; index += 1) {
    const gram = `${tokens[index]} ${tokens[index + 1]} ${tokens[index + 2]} ${tokens[index + 3]}`;
    if (seen.has(gram)) repeated += 1;
    else seen.add(gram);
  }
  return ramp(repeated / total, 0.25, 0.6);
}

/** The same substantial line three or more times, making up a good part of the answer. */
function lineScore(prose: string): number {
  const counts = new Map<string, number>();
  let lines = 0;
  for (const raw of prose.split('\n')) {
    const line = raw.trim().toLowerCase();
    // Short lines (list markers, "---", table rules) repeat in good answers.
    if (line.length < 12) continue;
    lines += 1;
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  let repeatedLines = 0;
  for (const count of counts.values()) if (count >= 3) repeatedLines += count - 1;
  return lines === 0 ? 1 : ramp(repeatedLines / lines, 0.2, 0.5);
}
