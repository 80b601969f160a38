/**
 * The words, numbers and symbols of a prompt, as the fact readers (prompt-facts.ts, prompt-numbers.ts) walk
 * them, and the reading they fill in as they go.
 */

export interface Token {
  text: string;
  lower: string;
  kind: 'number' | 'word' | 'symbol';
  /** No space before it: "5kg", "3rd". */
  glued: boolean;
  sentenceStart: boolean;
  /** Punctuation between it and the token before: "the premium one, how much…" pauses before "how". */
  pausedBefore: boolean;
  /** The letters of a letters+version token ("python3" → "python", "3"): an entity however it is cased. */
  product: boolean;
}

/** The prompt being read: tokens, which of them a fact has claimed, and the facts so far. */
export interface Reading {
  tokens: Token[];
  claimed: boolean[];
  numbers: string[];
  /** Units in order, with whether a number stood next to them: the numbered one is what is converted. */
  quantities: { unit: string; numbered: boolean }[];
  dates: Set<string>;
  polarity: Set<string>;
  operations: Set<string>;
  tasks: Set<string>;
}

/** Vulgar fractions, alone ("½ cup") or after a whole number ("2½ kg"). */
export const FRACTIONS: ReadonlyMap<string, number> = new Map([
  ['½', 1 / 2], ['⅓', 1 / 3], ['⅔', 2 / 3], ['¼', 1 / 4], ['¾', 3 / 4], ['⅕', 1 / 5], ['⅛', 1 / 8], ['⅜', 3 / 8], ['⅝', 5 / 8], ['⅞', 7 / 8],
]);
const FRACTION = `[${[...FRACTIONS.keys()].join('')}]`;

const TOKEN = new RegExp([
  String.raw`(?<number>(?<![\p{L}\p{N}.])(?:\d+)?${FRACTION}|(?<![\p{L}\p{N}.])[-−]?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d{1,3}(?: \d{3})+(?![\d,])|\d+)(?:\.\d+)*|(?<![\p{L}\p{N}])\.\d+)`,
  String.raw`(?<word>[\p{L}\p{N}](?:[\p{L}\p{N}'’_.+#-]*[\p{L}\p{N}+#])?)`,
  String.raw`(?<symbol>[$€£¥₹%°+×÷*/^=<>−–-])`,
].join('|'), 'gu');
const SENTENCE_BREAK = /[.!?\n:¿¡]/;
const PAUSE = /[,;:.!?\n()–—]/;
const PRODUCT_VERSION = /^(\p{L}+)[-_]?(\d+(?:\.\d+)*)$/u;
const ENDS_IN_DIGIT = /\d$/;

export function newReading(tokens: Token[]): Reading {
  return {
    tokens, claimed: tokens.map(() => false), numbers: [], quantities: [],
    dates: new Set(), polarity: new Set(), operations: new Set(), tasks: new Set(),
  };
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let previousEnd = 0;
  for (const match of text.matchAll(TOKEN)) {
    const gap = text.slice(previousEnd, match.index);
    const kind: Token['kind'] = match.groups?.number !== undefined ? 'number' : match.groups?.word !== undefined ? 'word' : 'symbol';
    const sentenceStart = tokens.length === 0 || SENTENCE_BREAK.test(gap);
    pushToken(tokens, match[0], kind, { glued: gap.length === 0 && tokens.length > 0, sentenceStart, pausedBefore: sentenceStart || PAUSE.test(gap) });
    previousEnd = match.index + match[0].length;
  }
  return tokens;
}

/** Whether nothing but punctuation or the end follows the token at `index`. */
export function isPauseAfter(tokens: readonly Token[], index: number): boolean {
  return index + 1 >= tokens.length || tokens[index + 1].pausedBefore;
}

/** Marks tokens [from, to) as read by a fact; returns `to`. */
export function claim(reading: Reading, from: number, to: number): number {
  for (let index = from; index < to; index++) reading.claimed[index] = true;
  return to;
}

type Spacing = Pick<Token, 'glued' | 'sentenceStart' | 'pausedBefore'>;

/** Splits "python3.11" and "GPT-4" into name and version, so "Python 3.11" reads the same. */
function pushToken(tokens: Token[], text: string, kind: Token['kind'], spacing: Spacing): void {
  const version = kind === 'word' && ENDS_IN_DIGIT.test(text) ? PRODUCT_VERSION.exec(text) : null;
  if (version) {
    tokens.push(makeToken(version[1], 'word', spacing, true));
    tokens.push(makeToken(version[2], 'number', { glued: true, sentenceStart: false, pausedBefore: false }, false));
    return;
  }
  tokens.push(makeToken(text, kind, spacing, false));
}

function makeToken(text: string, kind: Token['kind'], spacing: Spacing, product: boolean): Token {
  const lower = text.toLowerCase();
  return { text, lower: lower.includes('’') ? lower.replaceAll('’', "'") : lower, kind, ...spacing, product };
}
