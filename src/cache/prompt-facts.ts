import {
  AMBIGUOUS_MONTHS, COMPARATIVE_BEFORE_THAN, GLUED_ONLY_UNITS, IMPERATIVE_LEADS, IMPERATIVE_ONLY_TASKS, IMPLIED_EXPONENTS,
  KNOWN_PROPER_NOUNS, LANGUAGE_NAMES, MARKER_LANGUAGES, MATH_OPERATIONS, MONTHS, NEGATIONS, NUMBER_BOUND_OPERATIONS,
  NUMBER_ONLY_UNITS, NUMBER_SCALES, NUMBER_WORDS, ORDINAL_WORDS, PERCENT_WORDS, POLARITY, PREFIX_SYMBOLS, PRONOUN_ONE_BEFORE,
  RELATIVE_CUES, RELATIVE_DAYS, RELATIVE_PERIODS, SCRIPTS, STOP_WORDS, SYMBOL_OPERATIONS, TARGET_AFTER, TARGET_CUES, TASKS,
  TEMPERATURE_SCALES, UNITS, WEEKDAYS,
} from './prompt-lexicon.js';

/**
 * What must agree between two prompts for one's answer to serve the other. Plain JSON, because it is stored
 * beside the cached answer (in Redis too) and compared with the next prompt's facts at lookup time.
 * Lists are sorted sets unless said otherwise, so equal facts serialise equally.
 */
export interface PromptFacts {
  v: 1;
  /** 'en', 'es', …; 'und-Cyrl' when only the script is known; 'und' when unsure. */
  language: string;
  /** The language the answer must be in, when the prompt names one ("… into French"). */
  targetLanguage: string | null;
  /** Exact decimals in order of appearance: "1,000" → "1000", "15 percent" → "15%", "third" → "3th". */
  numbers: string[];
  /** Canonical unit and currency symbols: "kilograms" → "kg", "$" → "USD". */
  units: string[];
  /** Months ("m03"), weekdays ("mon"), relative days ("tomorrow", "next-week"). */
  dates: string[];
  /** Proper nouns and product tokens, lowercased without separators: "GPT-4o" → "gpt4o". */
  entities: string[];
  /** Content words, lowercased: an entity capitalised in one prompt may be typed lowercase in the other. */
  words: string[];
  negations: number;
  /** "axis:+" / "axis:-": "largest" is extreme:+, "cheapest" price:-. */
  polarity: string[];
  /** Arithmetic asked for: "sum", "percent-of", … */
  operations: string[];
  /** Kind of job asked for: "translate", "summarise", … */
  tasks: string[];
  /** The two sides of a directional cue, in order: "convert kg to lb" → ["kg", "lb"]. */
  direction: [string, string] | null;
}

interface Token {
  text: string;
  lower: string;
  kind: 'number' | 'word' | 'symbol';
  /** No space before it: "5kg", "3rd". */
  glued: boolean;
  sentenceStart: boolean;
  /** The letters of a letters+version token ("python3" → "python", "3"): an entity however it is cased. */
  product: boolean;
}

/** The prompt being read: tokens, which of them a fact has claimed, and the facts so far. */
interface Reading {
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

const TOKEN = new RegExp([
  String.raw`(?<number>(?<![\p{L}\p{N}.])[-−]?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d{1,3}(?: \d{3})+(?![\d,])|\d+)(?:\.\d+)*|(?<![\p{L}\p{N}])\.\d+)`,
  String.raw`(?<word>[\p{L}\p{N}](?:[\p{L}\p{N}'’_.+#-]*[\p{L}\p{N}+#])?)`,
  String.raw`(?<symbol>[$€£¥₹%°+×÷*/^=<>−–-])`,
].join('|'), 'gu');
const SENTENCE_BREAK = /[.!?\n:¿¡]/;
const PRODUCT_VERSION = /^(\p{L}+)[-_]?(\d+(?:\.\d+)*)$/u;
const ENDS_IN_DIGIT = /\d$/;
const ORDINAL_SUFFIX = /^(?:st|nd|rd|th)$/;
const ENTITY_SEPARATORS = /['’]s$|[-_.'’\s]/gu;
const NON_LATIN = /[^\p{Script=Latin}\p{Script=Common}\p{Script=Inherited}]/u;
const LATIN_LETTER = /\p{Script=Latin}/gu;
const HAS_DIGIT = /\d/;
const HAS_LETTER = /\p{L}/u;
const CAMEL = /\p{Ll}\p{Lu}/u;
const UPPER = /\p{Lu}/u;


export function promptFacts(text: string): PromptFacts {
  const tokens = tokenize(text.normalize('NFC'));
  const reading: Reading = {
    tokens, claimed: tokens.map(() => false), numbers: [], quantities: [],
    dates: new Set(), polarity: new Set(), operations: new Set(), tasks: new Set(),
  };
  const language = detectLanguage(text, tokens);
  readQuantities(reading);
  readDates(reading);
  readRequestWords(reading);
  const { entities, words } = readEntities(reading, language);
  return {
    v: 1,
    language,
    targetLanguage: readTargetLanguage(reading),
    numbers: reading.numbers,
    units: sortedUnique(reading.quantities.map((quantity) => quantity.unit)),
    dates: [...reading.dates].sort(),
    entities,
    words,
    negations: countNegations(tokens, language),
    polarity: [...reading.polarity].sort(),
    operations: [...reading.operations].sort(),
    tasks: [...reading.tasks].sort(),
    direction: conversionDirection(reading) ?? cueDirection(reading),
  };
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let previousEnd = 0;
  for (const match of text.matchAll(TOKEN)) {
    const gap = text.slice(previousEnd, match.index);
    const kind: Token['kind'] = match.groups?.number !== undefined ? 'number' : match.groups?.word !== undefined ? 'word' : 'symbol';
    const sentenceStart = tokens.length === 0 || SENTENCE_BREAK.test(gap);
    pushToken(tokens, match[0], kind, gap.length === 0 && tokens.length > 0, sentenceStart);
    previousEnd = match.index + match[0].length;
  }
  return tokens;
}

/** Splits "python3.11" and "GPT-4" into name and version, so "Python 3.11" reads the same. */
function pushToken(tokens: Token[], text: string, kind: Token['kind'], glued: boolean, sentenceStart: boolean): void {
  const version = kind === 'word' && ENDS_IN_DIGIT.test(text) ? PRODUCT_VERSION.exec(text) : null;
  if (version) {
    tokens.push(makeToken(version[1], 'word', glued, sentenceStart, true));
    tokens.push(makeToken(version[2], 'number', true, false, false));
    return;
  }
  tokens.push(makeToken(text, kind, glued, sentenceStart, false));
}

function makeToken(text: string, kind: Token['kind'], glued: boolean, sentenceStart: boolean, product: boolean): Token {
  const lower = text.toLowerCase();
  return { text, lower: lower.includes('’') ? lower.replaceAll('’', "'") : lower, kind, glued, sentenceStart, product };
}

function detectLanguage(text: string, tokens: Token[]): string {
  const script = NON_LATIN.test(text) ? dominantScript(text) : undefined;
  if (script) return script;
  const scores = new Map<string, number>();
  for (const token of tokens) {
    if (token.kind !== 'word') continue;
    for (const marker of markerParts(token.lower)) {
      const languages = MARKER_LANGUAGES.get(marker) ?? [];
      for (const language of languages) scores.set(language, (scores.get(language) ?? 0) + 1 / languages.length);
    }
  }
  const [best, second] = [...scores].sort((a, b) => b[1] - a[1]);
  // A lone shared word ("de") or a near tie says little; "und" makes the guard skip the language check.
  if (!best || best[1] < 1 || (second && best[1] - second[1] < 0.5)) return 'und';
  return best[0];
}

/** "l'eau" votes for "l'" and "eau": French and Italian elisions are strong markers. */
function markerParts(word: string): string[] {
  const apostrophe = word.indexOf("'");
  if (apostrophe <= 0 || apostrophe > 2) return [word];
  return [word.slice(0, apostrophe + 1), word.slice(apostrophe + 1)];
}

function dominantScript(text: string): string | undefined {
  const latin = text.match(LATIN_LETTER)?.length ?? 0;
  let best: { tag: string; count: number } | undefined;
  for (const { tag, pattern } of SCRIPTS) {
    const count = text.match(pattern)?.length ?? 0;
    // Kana beside Han is Japanese, however many Han characters there are.
    if (tag === 'ja' && count > 0) return 'ja';
    if (count > (best?.count ?? 0)) best = { tag, count };
  }
  return best && best.count > latin ? best.tag : undefined;
}

function readQuantities(reading: Reading): void {
  const { tokens, claimed } = reading;
  for (let index = 0; index < tokens.length; index++) {
    if (claimed[index]) continue;
    const token = tokens[index];
    if (token.kind === 'number') index = readQuantity(reading, index, index + 1, normaliseNumber(token.text)) - 1;
    else if (token.kind === 'word') index = readWordQuantity(reading, index) - 1;
    else index = readSymbolUnit(reading, index) - 1;
  }
}

/** "$" before a number (read with the number) or alone, "°C" with no number: a unit all the same. */
function readSymbolUnit(reading: Reading, index: number): number {
  const { tokens } = reading;
  const scale = tokens[index].lower === '°' ? TEMPERATURE_SCALES.get(tokens[index + 1]?.lower ?? '') : undefined;
  const unit = scale ?? PREFIX_SYMBOLS.get(tokens[index].lower);
  return unit ? claimUnit(reading, index, scale ? 2 : 1, unit, false) : index + 1;
}

/** Records a unit spelled by tokens [index, index + length); returns the index after it. */
function claimUnit(reading: Reading, index: number, length: number, unit: string, numbered: boolean): number {
  reading.quantities.push({ unit, numbered });
  return claim(reading, index, index + length);
}

function claim(reading: Reading, from: number, to: number): number {
  for (let index = from; index < to; index++) reading.claimed[index] = true;
  return to;
}

/** Number words, ordinals and unit words; returns the index after what it read. */
function readWordQuantity(reading: Reading, index: number): number {
  const token = reading.tokens[index];
  // "a pound", "an hour": one of the unit, as "1 lb" and "1 hour" say.
  if ((token.lower === 'a' || token.lower === 'an') && UNITS.has(reading.tokens[index + 1]?.lower)) {
    return readQuantity(reading, index, index + 1, '1');
  }
  const spelled = readNumberWords(reading.tokens, index);
  if (spelled) return readQuantity(reading, index, spelled.end, normaliseNumber(String(spelled.value)));
  const ordinal = ORDINAL_WORDS.get(token.lower);
  if (ordinal) return pushNumber(reading, index, index + 1, ordinal);
  const unit = UNITS.get(token.lower);
  return unit && !NUMBER_ONLY_UNITS.has(token.lower) ? claimUnit(reading, index, 1, unit, false) : index + 1;
}

/** One number spanning tokens [start, end), then what qualifies it: %, an ordinal suffix, a unit. */
function readQuantity(reading: Reading, start: number, end: number, value: string): number {
  const { tokens } = reading;
  claim(reading, start, end);
  const prefix = PREFIX_SYMBOLS.get(tokens[start - 1]?.lower ?? '');
  if (prefix) claimUnit(reading, start - 1, 1, prefix, true);
  const next = tokens[end];
  if (next?.glued && ORDINAL_SUFFIX.test(next.lower)) return readOrdinal(reading, end, value);
  if (next?.glued && next.lower === 'k') return pushNumber(reading, end, end + 1, String(Number(value) * 1000));
  const isPerCent = next?.lower === 'per' && tokens[end + 1]?.lower === 'cent';
  if (next && (next.lower === '%' || PERCENT_WORDS.has(next.lower) || isPerCent)) {
    const after = isPerCent ? end + 2 : end + 1;
    if (tokens[after]?.lower === 'of') reading.operations.add('percent-of');
    return pushNumber(reading, end, after, `${value}%`);
  }
  if (next?.glued && next.lower === 's' && /^\d{1,3}0$/.test(value)) return pushNumber(reading, end, end + 1, `${value}s`);
  reading.numbers.push(value);
  return readUnitAfter(reading, end);
}

function readOrdinal(reading: Reading, suffixIndex: number, value: string): number {
  if (value !== '1') return pushNumber(reading, suffixIndex, suffixIndex + 1, `${value}th`);
  // "1st" means what "first" means, and "first" sits on the order axis beside "last".
  reading.polarity.add('order:+');
  return claim(reading, suffixIndex, suffixIndex + 1);
}

/** Records a number whose further tokens [from, next) are read too. */
function pushNumber(reading: Reading, from: number, next: number, value: string): number {
  reading.numbers.push(value);
  return claim(reading, from, next);
}

/** "5 kg", "30°C", "30 degrees celsius", "10am": the unit that qualifies the number just read. */
function readUnitAfter(reading: Reading, index: number): number {
  const { tokens } = reading;
  const next = tokens[index];
  if (!next || next.kind === 'number') return index;
  if (next.lower === '°' || next.lower === 'degree' || next.lower === 'degrees') {
    const scale = TEMPERATURE_SCALES.get(tokens[index + 1]?.lower ?? '');
    return claimUnit(reading, index, scale ? 2 : 1, scale ?? 'deg', true);
  }
  const unit = UNITS.get(next.lower) ?? PREFIX_SYMBOLS.get(next.lower);
  if (!unit || (GLUED_ONLY_UNITS.has(next.lower) && !next.glued)) return index;
  return claimUnit(reading, index, 1, unit, true);
}

/** "twenty-five", "two hundred and five", "a dozen"; "one" after "which"/"the" is a pronoun. */
function readNumberWords(tokens: Token[], start: number): { value: number; end: number } | undefined {
  const first = tokens[start].lower;
  const isArticle = (first === 'a' || first === 'an') && NUMBER_SCALES.has(tokens[start + 1]?.lower);
  if (!isArticle && !NUMBER_WORDS.has(first) && !NUMBER_SCALES.has(first) && !first.includes('-')) return undefined;
  let index = isArticle ? start + 1 : start;
  let total = 0;
  let current = isArticle ? 1 : 0;
  while (index < tokens.length) {
    const parts = tokens[index].lower.split('-');
    if (!parts.every((part) => NUMBER_WORDS.has(part) || NUMBER_SCALES.has(part))) {
      if (tokens[index].lower !== 'and' || index === start || !NUMBER_WORDS.has(tokens[index + 1]?.lower)) break;
      index++;
      continue;
    }
    for (const part of parts) {
      const scale = NUMBER_SCALES.get(part);
      if (scale === undefined) current += NUMBER_WORDS.get(part)!;
      else if (scale >= 1000) [total, current] = [total + (current || 1) * scale, 0];
      else current = (current || 1) * scale;
    }
    index++;
  }
  if (index === start || (index === start + 1 && isPronounOne(tokens, start))) return undefined;
  return { value: total + current, end: index };
}

function isPronounOne(tokens: Token[], index: number): boolean {
  const next = tokens[index + 1]?.lower;
  return tokens[index].lower === 'one' && (PRONOUN_ONE_BEFORE.has(tokens[index - 1]?.lower) || next === 'of' || next === undefined);
}

/** "1,000", "1 000" and "1000" are one number; so are "2.50" and "2.5". Versions ("3.1.4") stay as written. */
function normaliseNumber(text: string): string {
  const plain = text.replace(/[ ,]/g, '').replace('−', '-');
  if (plain.split('.').length > 2) return plain.split('.').map((part) => String(Number(part))).join('.');
  const value = Number(plain);
  return Number.isFinite(value) ? String(value) : plain;
}

function readDates(reading: Reading): void {
  const { tokens, claimed } = reading;
  for (let index = 0; index < tokens.length; index++) {
    const date = claimed[index] || tokens[index].kind !== 'word' ? undefined : dateAt(tokens, index);
    if (date) reading.dates.add(date.value);
    if (date) index = claim(reading, index, index + date.length) - 1;
  }
}

function dateAt(tokens: Token[], index: number): { value: string; length: number } | undefined {
  const token = tokens[index];
  const cue = RELATIVE_CUES.get(token.lower);
  const following = tokens[index + 1]?.lower;
  if (cue && following && (RELATIVE_PERIODS.has(following) || WEEKDAYS.has(following) || MONTHS.has(following))) {
    return { value: `${cue}-${WEEKDAYS.get(following) ?? MONTHS.get(following) ?? following}`, length: 2 };
  }
  const plain = WEEKDAYS.get(token.lower) ?? RELATIVE_DAYS.get(token.lower);
  if (plain) return { value: plain, length: 1 };
  const month = MONTHS.get(token.lower);
  if (!month) return undefined;
  const isNextToNumber = tokens[index - 1]?.kind === 'number' || tokens[index + 1]?.kind === 'number';
  const isCapitalisedMidSentence = UPPER.test(token.text[0]) && !token.sentenceStart;
  return !AMBIGUOUS_MONTHS.has(token.lower) || isNextToNumber || isCapitalisedMidSentence ? { value: month, length: 1 } : undefined;
}

/** The words that say what is asked: arithmetic, the task, and which end of an axis ("largest", "after"). */
function readRequestWords(reading: Reading): void {
  const { tokens, claimed } = reading;
  const hasNumbers = reading.numbers.length > 0;
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index];
    const symbol = SYMBOL_OPERATIONS.get(token.lower);
    if (symbol && tokens[index - 1]?.kind === 'number' && tokens[index + 1]?.kind === 'number') reading.operations.add(symbol);
    if (claimed[index] || token.kind !== 'word') continue;
    const math = MATH_OPERATIONS.get(token.lower);
    const exponent = IMPLIED_EXPONENTS.get(token.lower);
    // Without a number, "add", "total" or "mean" are ordinary words ("add a column", "what does X mean").
    const isMath = (math || exponent) && (hasNumbers || !NUMBER_BOUND_OPERATIONS.has(token.lower));
    if (math && isMath) reading.operations.add(math);
    if (exponent && hasNumbers) reading.numbers.push(exponent);
    const task = TASKS.get(token.lower) ?? imperativeTask(tokens, index);
    if (task) reading.tasks.add(task);
    const sign = isMath ? undefined : POLARITY.get(token.lower) ?? comparativeSign(tokens, index);
    if (sign) reading.polarity.add(sign);
  }
}

/** "more"/"less" only compare before "than" ("more than 5"), not in "tell me more". */
function comparativeSign(tokens: Token[], index: number): string | undefined {
  return tokens[index + 1]?.lower === 'than' ? COMPARATIVE_BEFORE_THAN.get(tokens[index].lower) : undefined;
}

function imperativeTask(tokens: Token[], index: number): string | undefined {
  const task = IMPERATIVE_ONLY_TASKS.get(tokens[index].lower);
  return task && (tokens[index].sentenceStart || IMPERATIVE_LEADS.has(tokens[index - 1]?.lower)) ? task : undefined;
}

function countNegations(tokens: Token[], language: string): number {
  const lexicon = NEGATIONS[language] ?? NEGATIONS.en;
  let primary = 0;
  let concord = 0;
  for (const token of tokens) {
    if (token.kind !== 'word') continue;
    const word = token.lower;
    const elided = word[1] === "'" ? word.slice(0, 2) : word;
    if (lexicon.primary.has(word) || lexicon.primary.has(elided) || word.endsWith("n't")) primary++;
    else if (lexicon.concord.has(word)) concord++;
  }
  // Negative concord ("ne … pas", "no … nada") is one negation spelled twice; alone, "pas" still negates.
  return primary > 0 ? primary : concord;
}

function readTargetLanguage(reading: Reading): string | null {
  const { tokens } = reading;
  let named: string | null = null;
  let target: string | null = null;
  for (let index = 0; index < tokens.length; index++) {
    const language = LANGUAGE_NAMES.get(tokens[index].lower);
    if (!language) continue;
    if (TARGET_CUES.has(tokens[index - 1]?.lower) || TARGET_AFTER.has(tokens[index + 1]?.lower)) target = language;
    if (tokens[index - 1]?.lower !== 'from') named = language;
  }
  return target ?? (reading.tasks.has('translate') ? named : null);
}

function readEntities(reading: Reading, language: string): { entities: string[]; words: string[] } {
  // German capitalises every noun, so there capitals mark nothing either.
  const isCaseMeaningful = language !== 'de' && caseCarriesMeaning(reading.tokens);
  const entities = new Set<string>();
  const words = new Set<string>();
  reading.tokens.forEach((token, index) => {
    if (token.kind !== 'word' || reading.claimed[index]) return;
    const name = entityName(token.text);
    if (!token.product && (STOP_WORDS.has(token.lower) || STOP_WORDS.has(name))) return;
    if (name.length >= 2) words.add(name);
    if (isEntity(token, name, isCaseMeaningful)) entities.add(name);
  });
  return { entities: [...entities].sort(), words: [...words].sort() };
}

function isEntity(token: Token, name: string, isCaseMeaningful: boolean): boolean {
  if (token.product || KNOWN_PROPER_NOUNS.has(name) || (HAS_DIGIT.test(name) && HAS_LETTER.test(name))) return true;
  if (!isCaseMeaningful || name.length < 2) return false;
  const text = token.text;
  return CAMEL.test(text) || text === text.toUpperCase() || (UPPER.test(text[0]) && !token.sentenceStart);
}

/** In ALL-CAPS or Title Case Prompts capitals mark nothing, so only known names and products count. */
function caseCarriesMeaning(tokens: Token[]): boolean {
  let words = 0;
  let capitalised = 0;
  let shouted = 0;
  for (const token of tokens) {
    if (token.kind !== 'word' || token.text.length < 2) continue;
    if (token.text === token.text.toUpperCase()) {
      if (token.text !== token.lower) shouted++;
      continue;
    }
    words++;
    if (token.text[0] !== token.lower[0]) capitalised++;
  }
  const all = words + shouted;
  if (all >= 2 && shouted === all) return false;
  return all < 4 || (shouted / all <= 0.6 && (capitalised + shouted) / all <= 0.6);
}

/** "GPT-4o" → "gpt4o", "Node.js" → "nodejs", "France's" → "france". */
function entityName(text: string): string {
  return text.toLowerCase().replace(ENTITY_SEPARATORS, '');
}

/** "5 kg in pounds", "how many pounds is 5 kg": the unit with the number is the one converted from. */
function conversionDirection(reading: Reading): [string, string] | null {
  const numbered = sortedUnique(reading.quantities.filter((quantity) => quantity.numbered).map((quantity) => quantity.unit));
  const bare = reading.quantities.find((quantity) => !quantity.numbered && !numbered.includes(quantity.unit));
  return numbered.length === 1 && bare ? [numbered[0], bare.unit] : null;
}

/** "from A to B", "A than B", "convert A to B", "A before B": the terms either side, in order. */
function cueDirection(reading: Reading): [string, string] | null {
  const { tokens } = reading;
  const isConversion = reading.tasks.has('convert');
  for (let index = 0; index < tokens.length; index++) {
    const cue = tokens[index].lower;
    if (cue === 'from') {
      const to = tokens.findIndex((token, later) => later > index + 1 && (token.lower === 'to' || token.lower === 'into'));
      const pair = to > 0 ? [termAfter(tokens, index, to), termAfter(tokens, to, tokens.length)] : [];
      if (pair[0] && pair[1]) return [pair[0], pair[1]];
    }
    const isCue = cue === 'than' || cue === 'before' || cue === 'after' || (isConversion && (cue === 'to' || cue === 'into'));
    const left = isCue ? termBefore(tokens, index) : undefined;
    const right = isCue ? termAfter(tokens, index, tokens.length) : undefined;
    if (left && right) return [left, right];
  }
  return null;
}

/** The nearest content terms either side of a cue, within its sentence. */
function termBefore(tokens: Token[], index: number): string | undefined {
  for (let before = index - 1; before >= 0; before--) {
    const term = termOf(tokens[before]);
    if (term || tokens[before].sentenceStart) return term;
  }
  return undefined;
}

function termAfter(tokens: Token[], index: number, end: number): string | undefined {
  for (let after = index + 1; after < end && !tokens[after].sentenceStart; after++) {
    const term = termOf(tokens[after]);
    if (term) return term;
  }
  return undefined;
}

/** A content term in canonical form, or undefined for a function word or a cue word. */
function termOf(token: Token): string | undefined {
  if (token.kind === 'number') return normaliseNumber(token.text);
  if (token.kind !== 'word') return undefined;
  const unit = UNITS.get(token.lower);
  if (unit && !NUMBER_ONLY_UNITS.has(token.lower)) return unit;
  const isFunctionWord = STOP_WORDS.has(token.lower) || POLARITY.has(token.lower) || TASKS.has(token.lower);
  if (isFunctionWord || token.lower === 'more' || token.lower === 'less') return undefined;
  return singular(entityName(token.text));
}

/** Light plural folding so "strings" and "string" name the same side. */
function singular(word: string): string {
  return word.length > 3 && word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word;
}

function sortedUnique(values: string[]): string[] {
  return [...new Set(values)].sort();
}
