import type { QualityCheck } from './quality-scorer.js';
import { tokensOf, viewOf } from './answer-view.js';
import { STOP_WORDS } from './stop-words.js';
import { rise } from './score-shape.js';

/**
 * A question about a supplied passage (RAG, "answer from the document") should be answered from
 * it: the answer's content words — numbers and names above all, which is where small models
 * invent — should mostly appear in the passage or the question. An answer that cites none of
 * them is made up, or about something else.
 */

/** Asked about the passage, not told to write something new from it. */
const ASKS_ABOUT_IT = /\?|\b(?:according to|based on|from the (?:context|document|passage|text|article)|using (?:only )?the (?:context|document|passage|text|article)|answer|extract|find|which|what|who|when|where|how many|how much|summari[sz]e|list)\b/;
const CREATIVE = /\b(?:poem|story|song|imagine|invent|translate|rewrite|paraphrase|continue the|write an? (?:essay|letter|email|post))\b/;
/** Fewer content words than this and the ratio says little; numbers are judged even alone. */
const MIN_CONTENT = 3;
/** Numbers and proper names count this much more than ordinary words. */
const SALIENT_WEIGHT = 3;
/** Words this long are matched on their first letters too: "measured" is supported by "measures". */
const STEM_LENGTH = 5;

export const contextSupportCheck: QualityCheck = {
  name: 'context',
  weight: 0.6,
  run(request, answer) {
    const view = viewOf(request, answer);
    if (view.context === '' || view.text === '' || !ASKS_ABOUT_IT.test(view.instructions) || CREATIVE.test(view.instructions)) return undefined;
    const known = vocabulary(`${view.context}\n${view.ask}`);
    const terms = contentTerms(view.text);
    const hasNumber = terms.some((term) => term.isNumber);
    if (terms.length < MIN_CONTENT && !hasNumber) return undefined;
    const score = Math.min(wordScore(terms, known), numberScore(terms, known));
    return score >= 1 ? 1 : { score, reason: 'context:unsupported' };
  },
};

/** The weighted share of content words found in the passage (or the question). */
function wordScore(terms: readonly Term[], known: Vocabulary): number {
  let total = 0;
  let supported = 0;
  for (const term of terms) {
    const weight = term.isNumber || term.isName ? SALIENT_WEIGHT : 1;
    total += weight;
    if (isKnown(known, term.key)) supported += weight;
  }
  return rise(supported / total, 0.3, 0.6);
}

/**
 * A figure the passage does not contain is the typical invention, and one is enough to mislead:
 * numbers are judged on their own. (An answer that computes a new figure from the passage's
 * loses here too; it is rarer, and the vendor it escalates to answers it as well.)
 */
function numberScore(terms: readonly Term[], known: Vocabulary): number {
  const numbers = terms.filter((term) => term.isNumber);
  if (numbers.length === 0) return 1;
  return numbers.filter((term) => known.words.has(term.key)).length / numbers.length;
}

interface Term {
  key: string;
  isNumber: boolean;
  isName: boolean;
}

/** Words that carry content: not function words, not one-letter tokens. */
function contentTerms(text: string): Term[] {
  const terms: Term[] = [];
  let sentenceStart = true;
  for (const match of text.matchAll(/[\p{L}\p{N}][\p{L}\p{N}'’.,]*[\p{L}\p{N}]|[\p{L}\p{N}]|[.!?:\n]/gu)) {
    const token = match[0];
    if (/^[.!?:\n]$/.test(token)) {
      sentenceStart = true;
      continue;
    }
    const lower = token.toLowerCase();
    const key = normalise(token);
    const isNumber = /^\d/.test(key);
    const isName = !sentenceStart && /^\p{Lu}/u.test(token);
    sentenceStart = false;
    if (!isNumber && (key.length < 3 || STOP_WORDS.has(lower))) continue;
    terms.push({ key, isNumber, isName });
  }
  return terms;
}

interface Vocabulary {
  words: Set<string>;
  stems: Set<string>;
}

function vocabulary(text: string): Vocabulary {
  const words = new Set<string>();
  const stems = new Set<string>();
  // A passage repeats most of its words: each spelling is normalised once.
  const seen = new Set<string>();
  for (const token of tokensOf(text)) {
    if (seen.has(token)) continue;
    seen.add(token);
    const key = normalise(token);
    words.add(key);
    if (key.length >= STEM_LENGTH) stems.add(key.slice(0, STEM_LENGTH));
  }
  return { words, stems };
}

function isKnown(known: Vocabulary, key: string): boolean {
  return known.words.has(key) || (key.length >= STEM_LENGTH && !/^\d/.test(key) && known.stems.has(key.slice(0, STEM_LENGTH)));
}

/** Lower case; "1,200" and "1200" alike; a trailing plural "s" and possessive dropped. */
function normalise(token: string): string {
  let key = token.toLowerCase();
  if (key.endsWith("'s") || key.endsWith('’s')) key = key.slice(0, -2);
  while (key.endsWith('.') || key.endsWith(',')) key = key.slice(0, -1);
  if (isDigit(key.charCodeAt(0))) return key.includes(',') || key.includes("'") || key.includes('_') ? key.replace(/[,_']/g, '') : key;
  return key.length > 3 && key.endsWith('s') ? key.slice(0, -1) : key;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}
