import type { AnswerCheck, Language } from './set-item.js';

const CJK = /[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]/gu;
const KANA = /[\u3040-\u30ff]/u;
const HAN = /[\u3400-\u9fff]/u;
const CYRILLIC = /[\u0400-\u04ff]/gu;

/** Words of a text: whitespace-separated tokens, with each CJK character counted as half a word. */
export function wordCount(text: string): number {
  const cjk = text.match(CJK)?.length ?? 0;
  const spaced = text.replace(CJK, ' ').split(/\s+/u).filter((token) => /[\p{L}\p{N}]/u.test(token)).length;
  return spaced + Math.ceil(cjk / 2);
}

/** Frequent short words that tell the Latin-script languages of the set apart. */
const STOPWORDS: Readonly<Record<'en' | 'es' | 'fr' | 'de' | 'pt' | 'it', ReadonlySet<string>>> = {
  en: new Set('the a and is of to in it you that for with this are be on your was have not can we i'.split(' ')),
  es: new Set('el la los las de que y en es por para una un con del se no su al lo más está muy pero como'.split(' ')),
  fr: new Set('le la les de des et est un une pour que qui dans vous pas je nous du au sur ce avec votre sont'.split(' ')),
  de: new Set('der die das und ist nicht ein eine ich sie mit zu den für auf wir es dem sich auch von wird'.split(' ')),
  pt: new Set('o os as que e do da em um uma para com não você é no na dos das seu sua mais também'.split(' ')),
  it: new Set('il lo la gli le di che e è un una per con non del della sono nel anche come più questo'.split(' ')),
};
const LETTER_HINTS: readonly [RegExp, keyof typeof STOPWORDS][] = [
  [/[ñ¿¡]/u, 'es'],
  [/[ãõ]/u, 'pt'],
  [/[äöüß]/u, 'de'],
  [/[èêëîœ]/u, 'fr'],
];

/** A rough guess of a text's language: the script first, then stopwords, for the checks only. */
export function guessLanguage(text: string): Language | undefined {
  if (KANA.test(text)) return 'ja';
  if (HAN.test(text)) return 'zh';
  if ((text.match(CYRILLIC)?.length ?? 0) > text.length / 4) return 'ru';
  const tokens = text.toLowerCase().split(/[^\p{L}]+/u).filter(Boolean);
  const scores = Object.entries(STOPWORDS).map(([code, stopwords]) => {
    const hinted = LETTER_HINTS.some(([pattern, hint]) => hint === code && pattern.test(text)) ? 2 : 0;
    return { code: code as Language, score: tokens.filter((token) => stopwords.has(token)).length + hinted };
  });
  scores.sort((left, right) => right.score - left.score);
  return scores[0].score > 0 ? scores[0].code : undefined;
}

/** The JSON object an answer holds, a ```json fence around it allowed; undefined when there is none. */
export function answerObject(answer: string): Record<string, unknown> | undefined {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/u.exec(answer);
  try {
    const value: unknown = JSON.parse((fenced ? fenced[1] : answer).trim());
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // not JSON: the check fails, which is its answer
  }
}

/** Numbers as written in the set's languages: `1,024` and `40 000` are thousands, `2,54` is a decimal. */
function numbersIn(answer: string): number[] {
  const normalised = answer
    .replace(/(\d)[,\u00a0\u202f ](?=\d{3}(?!\d))/gu, '$1')
    .replace(/(\d),(\d{1,2})(?!\d)/gu, '$1.$2');
  return [...normalised.matchAll(/-?\d+(?:\.\d+)?/gu)].map((match) => Number(match[0]));
}

/**
 * The labels an answer names, longest first, each occurrence taken once: "not toxic" names
 * `not toxic`, not also `toxic`.
 */
function labelsNamed(answer: string, labels: readonly string[]): string[] {
  let rest = answer.toLowerCase();
  const named: string[] = [];
  for (const label of [...labels].sort((left, right) => right.length - left.length)) {
    const escaped = label.toLowerCase().replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
    const pattern = new RegExp(`(^|[^\\p{L}])${escaped}(?=$|[^\\p{L}])`, 'gu');
    if (pattern.test(rest)) {
      named.push(label);
      rest = rest.replace(pattern, '$1 ');
    }
  }
  return named;
}

/** Whether an answer passes an item's check. Pure; the oracle of every item must pass its own. */
export function passesCheck(check: AnswerCheck, answer: string): boolean {
  const lower = answer.toLowerCase();
  switch (check.kind) {
    case 'contains':
      return (!check.any || check.any.some((text) => lower.includes(text.toLowerCase()))) && (!check.all || check.all.every((text) => lower.includes(text.toLowerCase())));
    case 'number':
      return numbersIn(answer).some((value) => Math.abs(value - check.value) <= check.tolerance + 1e-9);
    case 'label': {
      const named = labelsNamed(answer, check.labels);
      return named.length === 1 && named[0] === check.expected;
    }
    case 'json': {
      const object = answerObject(answer);
      return object !== undefined && check.required.every((key) => Object.hasOwn(object, key));
    }
    case 'language':
      return guessLanguage(answer) === check.code && wordCount(answer) >= (check.minWords ?? 1);
    case 'nonempty':
      return wordCount(answer) >= check.minWords;
    case 'tool_call': {
      const call = answerObject(answer);
      const args = call?.arguments;
      const names: readonly string[] = typeof check.name === 'string' ? [check.name] : check.name;
      return typeof call?.name === 'string' && names.includes(call.name) && typeof args === 'object' && args !== null && check.required.every((key) => Object.hasOwn(args, key));
    }
  }
}
