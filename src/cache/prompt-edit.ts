import { isDictionaryWord } from './word-senses.js';

/**
 * What changed between two prompts that embed close, word by word. Two prompts that share almost
 * every word differ exactly where their answers differ ("zoom in" / "zoom out", "the free tier" /
 * "the paid tier"), and two with the same words in another order may ask the reverse question ("is
 * Everest higher than K2" / "is K2 higher than Everest"). A rewording changes many words and is
 * left to the embedding and the fact checks.
 */
export type PromptEdit =
  /** Same words, same order (case, punctuation and filler aside). */
  | { kind: 'same' }
  /** Same words; one stretch of them moved ("in Python, how do I…" / "how do I … in Python"). */
  | { kind: 'moved' }
  /** Same words in an order no single move explains: the roles of the words changed. */
  | { kind: 'reordered' }
  /** All but one or two words shared: the answer turns on `removed` → `added`. */
  | { kind: 'substituted'; removed: string[]; added: string[] }
  /** Many words changed: a rewording, for the embedding and the fact checks to judge. */
  | { kind: 'reworded' };

// Words whose presence or absence does not change what is asked. Prepositions and particles stay
// (they carry direction: in/out, to/from, than), and so do when/where/why/who.
const FILLER = new Set(
  (
    'a an the is are was were be been being am do does did doing have has had i me my mine myself you your yours we our it its this that these those ' +
    'can could would should will shall may might must please pls plz kindly hey hi hello thanks thank just quick quickly really actually ' +
    'what whats which how so and or also any some there here ok okay let know need want wondering question like get ' +
    // Asking verbs: "explain X", "list X", "give me X" ask what "what is X" asks.
    'explain tell give show list name describe calculate compute find define say provide make ' +
    'puedes podrias pourriez pouvez peux kannst konnen diga dime dis'
  ).split(' '),
);
// Numbers and their words are the facts' to compare (near-miss-guard.ts), spelt any way.
const NUMBER_WORD = new Set(
  'zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million billion half quarter dozen percent'.split(' '),
);
const PREPOSITION = new Set('to for in of on at by with from into about'.split(' '));
/** Spoken spellings, written out: "wanna" asks what "want to" asks, "u" is "you". */
const INFORMAL: ReadonlyMap<string, string> = new Map([
  ['wanna', 'want to'], ['gonna', 'going to'], ['gotta', 'got to'], ['u', 'you'], ['ur', 'your'],
  ['pls', 'please'], ['plz', 'please'], ['thx', 'thanks'], ['cannot', 'can not'],
]);
/** "n't" is the word "not" ("haven't received" / "not received"); "can't" and "won't" lose more than the ending. */
const CONTRACTED_NOT = /\b(?:(can)'t|(wo)n't|(\p{L}+)n't)\b/gu;
/** A number (decimal and grouping marks kept, a percent sign too), or a run of letters and digits (c++, c#). */
const WORD = /\d+(?:[.,]\d+)*%?|[\p{L}\p{N}+#]+/gu;
/** Word lists longer than this are compared as rewordings: moves are searched only in short prompts. */
const MAX_MOVE_WORDS = 40;
/** A substitution is one or two words on each side with at least this many words shared. */
const MAX_SUBSTITUTED = 2;
const MIN_SHARED = 1;

export function isPreposition(word: string): boolean {
  return PREPOSITION.has(word);
}

export function promptEdit(cached: string, asked: string): PromptEdit {
  const before = wordsOf(cached);
  const after = wordsOf(asked);
  if (before.join(' ') === after.join(' ')) return { kind: 'same' };
  const { removed, added, shared, spelt } = difference(before, after);
  if (removed.length === 0 && added.length === 0) {
    if (before.join(' ') === spelt.join(' ')) return { kind: 'same' };
    return isOneMove(before, spelt) ? { kind: 'moved' } : { kind: 'reordered' };
  }
  // "do I need a visa" / "will I need a visa for that": a preposition more or less asks the same.
  if ([...removed, ...added].every((word) => PREPOSITION.has(word)) && (removed.length === 0 || added.length === 0)) return { kind: 'same' };
  const isSmall = removed.length <= MAX_SUBSTITUTED && added.length <= MAX_SUBSTITUTED && shared >= MIN_SHARED && shared >= Math.max(before.length, after.length) - MAX_SUBSTITUTED;
  return isSmall ? { kind: 'substituted', removed, added } : { kind: 'reworded' };
}

/** Lowercase words, apostrophes folded, filler dropped. */
export function wordsOf(text: string): string[] {
  const words =
    text
      .normalize('NFKD')
      .replace(/\p{M}/gu, '') // accents: "como" and "cómo" are one word typed two ways
      .toLowerCase()
      .replace(/[’‘`]/g, "'")
      .replace(CONTRACTED_NOT, (_match, can?: string, will?: string, stem?: string) => `${can ?? (will ? 'will' : stem)} not`)
      .replace(/'(s|re|ve|ll|d|m)\b/g, '')
      .match(WORD) ?? [];
  return words.flatMap((word) => INFORMAL.get(word)?.split(' ') ?? [word]).filter((word, index, all) => !isRedundant(word, all[index + 1])).filter((word) => !FILLER.has(word) && !NUMBER_WORD.has(word) && !/^\d/.test(word) && !isFillerTypo(word));
}

/**
 * Words that add nothing to the word after them: "the year 2000" is 2000, "keeps crashing" is
 * crashing (the answer is the same however often it happens).
 */
function isRedundant(word: string, next: string | undefined): boolean {
  if (next === undefined) return false;
  if (word === 'year') return /^\d{3,4}$/.test(next);
  return ASPECT_VERBS.has(word) && next.length > 4 && next.endsWith('ing');
}

const ASPECT_VERBS = new Set(['keep', 'keeps', 'kept', 'keeping']);

/** "waht", "wats", "calcualte": filler misspelt is filler. */
function isFillerTypo(word: string): boolean {
  if (word.length < 4 || word.length > 10) return false;
  // Fillers of four letters or more only: "may" is one letter from "many", a real word.
  if (word.length <= 6) {
    for (const filler of FILLER) if (filler.length >= 4 && isVariant(filler, word)) return true;
    return false;
  }
  // Long words: a slip of one letter, not an inflection ("provider" is not "provide").
  for (const filler of FILLER) if (filler.length >= 6 && !word.startsWith(filler) && editDistance(filler, word, 1) <= 1) return true;
  return false;
}

/**
 * The words only one side has, after pairing typos and inflections ("recieve" / "receive", "cook" /
 * "cooking"); `spelt` is `after` with each such word written as `before` has it.
 */
function difference(before: readonly string[], after: readonly string[]): { removed: string[]; added: string[]; shared: number; spelt: string[] } {
  const left = new Map<string, number>();
  for (const word of before) left.set(word, (left.get(word) ?? 0) + 1);
  const spelt = [...after];
  const addedAt: number[] = [];
  let shared = 0;
  after.forEach((word, index) => {
    const count = left.get(word) ?? 0;
    if (count > 0) {
      left.set(word, count - 1);
      shared += 1;
    } else addedAt.push(index);
  });
  const removed = [...left].flatMap(([word, count]) => Array<string>(count).fill(word));
  const added: string[] = [];
  for (const index of addedAt) {
    const match = removed.findIndex((word) => isVariant(word, after[index]));
    if (match < 0) {
      added.push(after[index]);
      continue;
    }
    spelt[index] = removed[match];
    removed.splice(match, 1);
    shared += 1;
  }
  return { removed, added, shared, spelt };
}

/**
 * A typo or an inflection of the same word: a shared stem ("cook" / "cooking", "included" /
 * "including"), or one or two letters apart in a long word.
 */
function isVariant(a: string, b: string): boolean {
  if (/\d/.test(a) || /\d/.test(b)) return false; // 80 and 90 are never one number misspelt
  const shorter = a.length <= b.length ? a : b;
  const longer = shorter === a ? b : a;
  if (shorter.length >= 4 && longer.startsWith(shorter) && longer.length - shorter.length <= 3) return true;
  // A silent "e" goes before the ending: "make" / "making", "write" / "writer".
  if (shorter.length >= 4 && shorter.endsWith('e') && E_DROPPING.test(longer.slice(shorter.length - 1)) && longer.startsWith(shorter.slice(0, -1))) return true;
  if (isSameStem(a, b)) return true;
  if (shorter.length >= 5) {
    const allowed = shorter.length >= 8 ? 2 : 1;
    return editDistance(a, b, allowed) <= allowed;
  }
  // Short words: a letter dropped or doubled, or two swapped ("mny", "waht"), but one letter for
  // another only where the result is no English word ("meny" / "many"): "cat" and "car", "rent"
  // and "sent" are other words.
  if (shorter.length < 3 || editDistance(a, b, 1) > 1) return false;
  if (a.length !== b.length || [...a].sort().join('') === [...b].sort().join('')) return true;
  return shorter.length >= 4 && isDictionaryWord(a) !== isDictionaryWord(b);
}

const E_DROPPING = /^(?:ing|ed|er|ers)$/;
const INFLECTION = /(?:e|es|ed|ing|s|er|ers|ion|ions)?$/;

/** One stem of five letters or more with inflectional endings only: "including" / "included". */
function isSameStem(a: string, b: string): boolean {
  let shared = 0;
  while (shared < a.length && shared < b.length && a[shared] === b[shared]) shared++;
  if (shared < 5) return false;
  const [restA, restB] = [a.slice(shared), b.slice(shared)];
  return INFLECTION.exec(restA)?.[0] === restA && INFLECTION.exec(restB)?.[0] === restB;
}

/** Levenshtein distance with transpositions, stopping early past `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  let beforePrevious = previous;
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, beforePrevious[j - 2] + 1);
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin > limit) return limit + 1;
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length];
}

/** Whether `after` is `before` with one contiguous stretch of words moved elsewhere. */
function isOneMove(before: readonly string[], after: readonly string[]): boolean {
  if (before.length > MAX_MOVE_WORDS) return true;
  const target = after.join('\u0000');
  for (let start = 0; start < before.length; start++) {
    for (let end = start + 1; end <= before.length; end++) {
      const block = before.slice(start, end);
      const rest = [...before.slice(0, start), ...before.slice(end)];
      for (let at = 0; at <= rest.length; at++) {
        if (at === start) continue;
        if ([...rest.slice(0, at), ...block, ...rest.slice(at)].join('\u0000') === target) return true;
      }
    }
  }
  return false;
}
