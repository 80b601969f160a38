import type { CheckOutcome, QualityCheck } from './quality-scorer.js';
import { bareAnswer, countWords, viewOf, type AnswerView } from './answer-view.js';
import { ramp } from './score-shape.js';

/**
 * Instructions about the answer's shape that the prompt states outright: "only the number",
 * "in one word", "yes or no", "classify … as A, B or C", "in one sentence", "under 50 words".
 * Clients that say so usually parse the answer; a chatty local model breaks them.
 */

const ONLY_NUMBER = /\b(?:(?:only|just) (?:give |return |output |write )?(?:the |a |one )?(?:final )?(?:number|numeric (?:value|answer)|integer|digits?|numeral)s?\b|(?:answer|respond|reply) (?:only )?with (?:only )?(?:a|the|one) (?:single )?(?:number|integer|numeric value)\b|(?:number|digits?|integer) only\b)/;
/** A number, perhaps signed, grouped, decimal, a fraction or with a short unit or currency. */
const NUMBER_ONLY = /^[-+−~≈]?\s*[$€£¥]?\s*\d[\d,_' ]*(?:[.,]\d+)?(?:e[-+]?\d+)?(?:\s*\/\s*\d+)?\s*(?:%|[a-zµ°]{1,5}\.?)?$/i;

export const onlyNumberCheck: QualityCheck = {
  name: 'only-number',
  weight: 0.7,
  run(request, answer) {
    const view = viewOf(request, answer);
    if (view.text === '' || !ONLY_NUMBER.test(view.instructions)) return undefined;
    const bare = bareAnswer(view.text);
    if (NUMBER_ONLY.test(bare)) return 1;
    // The number is there, wrapped in words: a human copes, a parser does not.
    return /\d/.test(bare) ? { score: 0.3, reason: 'only-number' } : { score: 0, reason: 'only-number' };
  },
};

const ONE_WORD = /\b(?:(?:in|with|using) (?:exactly |only |just )?(?:one|a single|1) word\b|one[- ]word (?:answer|response|reply)|(?:answer|respond|reply) in a word\b|single[- ]word (?:answer|response|reply)|(?:only|just) (?:one|a single) word\b|en un (?:seul )?mot\b|in (?:einem|einem einzigen) wort\b|en una (?:sola )?palabra\b|in una (?:sola )?parola\b|em uma palavra\b|in één woord\b)/;

export const oneWordCheck: QualityCheck = {
  name: 'one-word',
  weight: 0.6,
  run(request, answer) {
    const view = viewOf(request, answer);
    if (view.text === '' || !ONE_WORD.test(view.instructions)) return undefined;
    const words = countWords(bareAnswer(view.text));
    if (words <= 1) return 1;
    // "New York" is one answer in two words; a sentence is not.
    return { score: words === 2 ? 0.7 : words === 3 ? 0.3 : 0, reason: 'one-word' };
  },
};

const YES_NO = /\b(?:(?:answer|respond|reply)(?: only)?(?: with)? (?:a )?(?:simple |single )?["']?yes["']? or ["']?no\b|yes\/no\b|(?:just|only|simply) (?:say )?["']?yes["']? or ["']?no\b|yes or no(?: only)?[:?.]|^yes or no\b|\b(?:par |répon\w* (?:par )?)oui ou non\b|\bmit ja oder nein\b|\b(?:con )?sí o no\b|\bsì o no\b|\bsim ou não\b|\bja of nee\b)/m;
const STARTS_YES_NO = /^(?:yes|no|yeah|yep|nope|oui|non|ja|nein|nee|sí|si|sì|sim|não)(?![\p{L}\p{N}])/u;

export const yesNoCheck: QualityCheck = {
  name: 'yes-no',
  weight: 0.6,
  run(request, answer) {
    const view = viewOf(request, answer);
    if (view.text === '' || !YES_NO.test(view.instructions)) return undefined;
    const bare = bareAnswer(view.text).toLowerCase();
    if (STARTS_YES_NO.test(bare)) return 1;
    const firstSentence = bare.split(/[.!?\n]/, 1)[0];
    return { score: /(?:^|[^\p{L}])(?:yes|no|oui|non|ja|nein|sí|não)(?![\p{L}])/u.test(firstSentence) ? 0.5 : 0, reason: 'yes-no' };
  },
};

/** Labels are short names; a longer "label" is a sentence the pattern caught by mistake. */
const MAX_LABEL_WORDS = 3;
const MAX_LABELS = 12;
/** Imperative only: "how do biologists classify animals as …" is a question, not a task. */
const LABEL_LISTS: readonly RegExp[] = [
  /(?:^|[.!?:\n]\s*)(?:please\s+)?(?:classify|categori[sz]e|label|tag)\b[^.?!\n]{0,120}?\b(?:as|into|with)\s+(?:one of\s*)?(?:either\s+)?(?:the (?:following|labels?|categories)\s*)?:?\s*([^.?!\n:]+)/,
  /(?:^|[\n.!?"”]\s*)(?:labels?|categories|category|classes|class|sentiment|options)\s*:\s*([^\n.?!]*[/|,][^\n.?!]*)/,
  /\b(?:choose|pick|select|answer with|respond with|reply with|output)\s+(?:only\s+)?(?:one|exactly one|only one|a single one)\s+(?:of|from)\b\s*(?:the following\s*)?(?:options|labels|categories|words)?\s*:?\s*([^.?!\n:]+)/,
];

/** The labels a classification prompt offers, lower-cased; none when it offers none. */
export function labelsOf(instructions: string): string[] {
  for (const pattern of LABEL_LISTS) {
    const list = pattern.exec(instructions)?.[1];
    if (!list) continue;
    const labels = list
      .split(/\s*(?:,|\/|\||;|\bor\b|\band\b)\s*/)
      .map((label) => label.replace(/^[\s"'“‘`([{<-]+|[\s"'”’`)\]}>.:-]+$/g, '').trim())
      .filter((label) => label !== '' && countWords(label) <= MAX_LABEL_WORDS);
    if (labels.length >= 2 && labels.length <= MAX_LABELS) return [...new Set(labels)];
  }
  return [];
}

export const labelCheck: QualityCheck = {
  name: 'label',
  weight: 0.6,
  run(request, answer) {
    const view = viewOf(request, answer);
    if (view.text === '') return undefined;
    const labels = labelsOf(view.instructions);
    return labels.length === 0 ? undefined : judgeLabel(view, labels);
  },
};

function judgeLabel(view: AnswerView, labels: readonly string[]): CheckOutcome {
  const bare = bareAnswer(view.text).toLowerCase();
  if (labels.includes(bare)) return 1;
  const leading = labels.find((label) => bare.startsWith(label) && /^[\s.,:;!)(—–-]/.test(bare.slice(label.length)));
  // A label first and a reason after it: parseable enough.
  if (leading) return 0.9;
  const mentioned = labels.filter((label) => new RegExp(`(?:^|[^\\p{L}\\p{N}])${escapeRegExp(label)}(?:$|[^\\p{L}\\p{N}])`, 'u').test(bare));
  if (mentioned.length === 1) return { score: 0.6, reason: 'label' };
  return { score: mentioned.length === 0 ? 0 : 0.2, reason: 'label' };
}

const NUMBER_WORDS: Record<string, number> = { one: 1, a: 1, single: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10 };
const SENTENCE_LIMIT = /\b(?:in|with|using|into)\s+(?:exactly\s+|only\s+|just\s+|at most\s+|no more than\s+)?(one|a|single|two|three|four|five|\d+)\s+(?:single\s+)?(?:short\s+)?sentences?\b/;
const WORD_LIMIT = /\b(?:(?:under|fewer than|less than|at most|no more than|not more than|max(?:imum)?|within|up to|in)\s+(\d+)\s+words|(\d+)\s+words\s+(?:or (?:less|fewer)|max(?:imum)?))\b/;

/**
 * A length instruction, respected within slack: a sentence over, or a fifth over a word limit,
 * passes; twice the words, or two sentences asked for and six given, fails.
 */
export const lengthCheck: QualityCheck = {
  name: 'length',
  weight: 0.5,
  run(request, answer) {
    const view = viewOf(request, answer);
    if (view.text === '') return undefined;
    const words = WORD_LIMIT.exec(view.instructions);
    if (words) {
      const limit = Number(words[1] ?? words[2]);
      if (!(limit > 0)) return undefined;
      const score = ramp(countWords(view.text) / limit, 1.2, 2);
      return score >= 1 ? 1 : { score, reason: 'length:words' };
    }
    const sentences = SENTENCE_LIMIT.exec(view.instructions);
    if (!sentences) return undefined;
    const limit = NUMBER_WORDS[sentences[1]] ?? Number(sentences[1]);
    const over = sentenceCount(view.text) - limit;
    const score = over <= 0 ? 1 : ramp(over, 0, limit + 1);
    return score >= 1 ? 1 : { score, reason: 'length:sentences' };
  },
};

/** Sentence ends followed by space or the end; decimals ("3.5") and initials ("U.S.") mostly survive. */
function sentenceCount(text: string): number {
  const body = text.replace(/```[\s\S]*?```/g, ' ').replace(/\b(?:e\.g|i\.e|etc|vs|mr|mrs|dr|st|no)\./gi, '');
  const ends = body.match(/[^.!?。！？\n]{3,}?(?:[.!?。！？]+(?=\s|$)|\n+|$)/g) ?? [];
  return Math.max(1, ends.filter((sentence) => /[\p{L}\p{N}]/u.test(sentence)).length);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
