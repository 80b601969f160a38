import type { QualityCheck } from './quality-scorer.js';
import { countWords, tokensOf, viewOf } from './answer-view.js';

/**
 * The answer should be in the language of the question. Small models drift into English (or into
 * their training's second language) when asked in French; a vendor does not. Detection is the
 * script first (Cyrillic, Han, …), then, for Latin text, which language's function words it uses.
 */

/** Frequent function words of each language; those several languages share split their vote (below). */
const STOP_WORDS: Record<string, readonly string[]> = {
  en: ['a', 'i', 'my', 'on', 'as', 'if', 'do', 'just', 'been', 'the', 'and', 'is', 'are', 'of', 'to', 'in', 'that', 'it', 'with', 'for', 'this', 'was', 'be', 'have', 'not', 'you', 'what', 'which', 'from', 'by', 'or', 'an', 'at', 'can', 'how', 'there', 'they', 'does', 'would'],
  fr: ['a', 'de', 'en', 'un', 'à', 'je', 'ne', 'se', 'plus', 'très', 'le', 'la', 'les', 'des', 'est', 'et', 'une', 'du', 'que', 'qui', 'dans', 'pour', 'pas', 'sur', 'au', 'avec', 'ce', 'sont', 'il', 'elle', 'nous', 'vous', 'mais', 'ou', 'aux', 'cette', 'quel', 'quelle', 'comment', 'être'],
  de: ['in', 'dass', 'einen', 'bei', 'nach', 'noch', 'der', 'die', 'das', 'und', 'ist', 'nicht', 'ein', 'eine', 'zu', 'den', 'von', 'mit', 'sich', 'des', 'auf', 'für', 'im', 'dem', 'auch', 'es', 'wie', 'sind', 'ich', 'wir', 'sie', 'was', 'wird', 'oder', 'aber', 'warum'],
  es: ['a', 'la', 'de', 'le', 'yo', 'mi', 'este', 'esta', 'el', 'los', 'las', 'es', 'y', 'en', 'que', 'del', 'un', 'una', 'por', 'con', 'para', 'se', 'no', 'lo', 'como', 'más', 'pero', 'sus', 'su', 'al', 'está', 'son', 'qué', 'cómo', 'muy', 'también', 'hay', 'cuál'],
  it: ['a', 'in', 'io', 'mi', 'lo', 'questa', 'sono', 'il', 'di', 'che', 'è', 'e', 'la', 'per', 'un', 'una', 'non', 'sono', 'della', 'del', 'gli', 'con', 'le', 'si', 'da', 'anche', 'come', 'più', 'nel', 'alla', 'questo', 'ma', 'perché', 'cosa', 'qual', 'degli', 'delle'],
  pt: ['a', 'ao', 'eu', 'ele', 'ela', 'muito', 'o', 'os', 'as', 'de', 'que', 'e', 'do', 'da', 'em', 'um', 'uma', 'para', 'com', 'não', 'no', 'na', 'por', 'mais', 'dos', 'das', 'se', 'como', 'é', 'são', 'mas', 'foi', 'também', 'você', 'qual', 'isso'],
  nl: ['in', 'ik', 'je', 'hij', 'zij', 'heeft', 'de', 'het', 'een', 'en', 'van', 'is', 'dat', 'niet', 'op', 'te', 'zijn', 'met', 'voor', 'er', 'die', 'ook', 'aan', 'om', 'maar', 'wat', 'hoe', 'wordt', 'nog', 'bij', 'kan', 'naar', 'dit', 'deze', 'zijn', 'waarom'],
};
/** Each word votes for the languages that use it, split between them: "de" says little, "der" much. */
const VOTES = new Map<string, [string, number][]>();
for (const [language, words] of Object.entries(STOP_WORDS)) for (const word of new Set(words)) VOTES.set(word, [...(VOTES.get(word) ?? []), [language, 0]]);
for (const voters of VOTES.values()) for (const voter of voters) voter[1] = 1 / voters.length;

/** Non-Latin scripts name their language well enough for this check. */
const SCRIPTS: readonly [string, RegExp][] = [
  ['ja', /[\p{Script=Hiragana}\p{Script=Katakana}]/gu],
  ['zh', /\p{Script=Han}/gu],
  ['ko', /\p{Script=Hangul}/gu],
  ['ru', /\p{Script=Cyrillic}/gu],
  ['el', /\p{Script=Greek}/gu],
  ['ar', /\p{Script=Arabic}/gu],
  ['he', /\p{Script=Hebrew}/gu],
  ['hi', /\p{Script=Devanagari}/gu],
  ['th', /\p{Script=Thai}/gu],
];
const LATIN = /\p{Script=Latin}/gu;

/** Too little text to tell a language from; a number or a name is in every language. */
const MIN_WORDS = 4;
/** The best language must lead the next by this factor, or the text is called undecided. */
const LEAD = 1.5;
/** Fewer function-word votes than this and the text is too short to say. */
const MIN_VOTES = 2;

/** The user names a language or asks for a translation: the answer's language is theirs to choose. */
const OTHER_LANGUAGE_ASKED = /\b(?:translat\w*|tradu\w*|übersetz\w*|vertaal\w*|english|anglais|englisch|inglés|inglese|french|français|französisch|francés|spanish|español|espagnol|spanisch|german|deutsch|allemand|alemán|italian|italiano|italien|portuguese|português|dutch|nederlands|chinese|mandarin|japanese|korean|russian|arabic|hebrew|hindi|greek|thai|latin|language|langue|sprache|idioma)\b|переве|翻译|翻訳/;

/** 'en', 'zh', …, or undefined when the text is too short or too mixed to say. */
export function detectLanguage(text: string): string | undefined {
  const prose = text.replace(/```[\s\S]*?```/g, ' ').replace(/`[^`]*`/g, ' ').replace(/https?:\/\/\S+/g, ' ');
  const latin = prose.match(LATIN)?.length ?? 0;
  let best: [string, number] = ['latin', latin];
  for (const [language, pattern] of SCRIPTS) {
    const count = prose.match(pattern)?.length ?? 0;
    // Japanese mixes kanji with kana: any real share of kana makes it Japanese, not Chinese.
    const weighted = language === 'ja' ? count * 3 : count;
    if (weighted > best[1]) best = [language, weighted];
  }
  if (best[0] !== 'latin') return best[1] >= 2 ? best[0] : undefined;
  if (countWords(prose) < MIN_WORDS) return undefined;
  return latinLanguage(prose.toLowerCase());
}

function latinLanguage(lower: string): string | undefined {
  const counts = new Map<string, number>();
  for (const word of lower.match(/\p{L}+/gu) ?? []) {
    for (const [language, vote] of VOTES.get(word) ?? []) counts.set(language, (counts.get(language) ?? 0) + vote);
  }
  const ranked = [...counts].sort((left, right) => right[1] - left[1]);
  const [first, second] = ranked;
  if (!first || first[1] < MIN_VOTES) return undefined;
  return !second || first[1] >= second[1] * LEAD ? first[0] : undefined;
}

export const languageCheck: QualityCheck = {
  name: 'language',
  weight: 0.6,
  run(request, answer) {
    const view = viewOf(request, answer);
    if (view.text === '' || OTHER_LANGUAGE_ASKED.test(view.instructions)) return undefined;
    if (tokensOf(view.text).length < MIN_WORDS) return undefined;
    const asked = detectLanguage(view.ask);
    const answered = detectLanguage(view.text);
    if (!asked || !answered || asked === answered) return asked && answered ? 1 : undefined;
    return { score: 0, reason: `language:${answered}≠${asked}` };
  },
};
