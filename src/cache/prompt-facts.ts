import {
  AMBIGUOUS_MONTHS, COMPARATIVE_BEFORE_THAN, IMPERATIVE_LEADS, IMPERATIVE_ONLY_TASKS, IMPLIED_EXPONENTS,
  KNOWN_PROPER_NOUNS, LANGUAGE_NAMES, MARKER_LANGUAGES, MATH_OPERATIONS, MONTHS, NEGATIONS, NUMBER_BOUND_OPERATIONS,
  NUMBER_ONLY_UNITS, POLARITY, RELATIVE_CUES, RELATIVE_DAYS, RELATIVE_PERIODS, SCRIPTS, STOP_WORDS, SYMBOL_OPERATIONS,
  TARGET_AFTER, TARGET_CUES, TASKS, UNITS, WEEKDAYS,
} from './prompt-lexicon.js';
import { questionParts } from './prompt-clauses.js';
import { normaliseNumber, readQuantities } from './prompt-numbers.js';
import { claim, newReading, tokenize, type Reading, type Token } from './prompt-tokens.js';

/** The facts of one stretch of a prompt. Lists are sorted sets unless said otherwise, so equal facts serialise equally. */
export interface TextFacts {
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

/**
 * What must agree between two prompts for one's answer to serve the other. Plain JSON, because it is stored
 * beside the cached answer (in Redis too) and compared with the next prompt's facts at lookup time.
 * The facts at the top are those of the part that asks; what the asker says about themselves around it
 * ("I'm visiting the Louvre next week.") is kept apart in `context` (prompt-clauses.ts).
 */
export interface PromptFacts extends TextFacts {
  v: 2;
  /** 'en', 'es', …; 'und-Cyrl' when only the script is known; 'und' when unsure. Read from the whole prompt. */
  language: string;
  /** The language the answer must be in, when the part that asks names one ("… into French"). */
  targetLanguage: string | null;
  /** The facts of the statements around the question, or null when the whole prompt asks. */
  context: TextFacts | null;
  /** Nothing in the prompt asks ("my pc wont turn on"): its statements are compared with all of the other prompt. */
  onlyStatements: boolean;
}

const ENTITY_SEPARATORS = /['’]s$|[-_.'’\s]/gu;
const NON_LATIN = /[^\p{Script=Latin}\p{Script=Common}\p{Script=Inherited}]/u;
const LATIN_LETTER = /\p{Script=Latin}/gu;
const HAS_DIGIT = /\d/;
const HAS_LETTER = /\p{L}/u;
const CAMEL = /\p{Ll}\p{Lu}/u;
const UPPER = /\p{Lu}/u;

export function promptFacts(text: string): PromptFacts {
  const normalised = text.normalize('NFC');
  const language = detectLanguage(normalised, tokenize(normalised));
  const parts = questionParts(normalised);
  const { facts, targetLanguage } = readText(parts.asking, language);
  const context = parts.context ? readText(parts.context, language).facts : null;
  return { v: 2, language, targetLanguage, ...facts, context, onlyStatements: parts.onlyStatements };
}

function readText(text: string, language: string): { facts: TextFacts; targetLanguage: string | null } {
  const tokens = tokenize(text);
  const reading = newReading(tokens);
  readQuantities(reading);
  readDates(reading);
  readRequestWords(reading);
  const { entities, words } = readEntities(reading, language);
  const facts: TextFacts = {
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
  return { facts, targetLanguage: readTargetLanguage(reading) };
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

function readDates(reading: Reading): void {
  const { tokens, claimed } = reading;
  for (let index = 0; index < tokens.length; index++) {
    const date = claimed[index] || tokens[index].kind !== 'word' ? undefined : dateAt(tokens, index);
    // "on weekends" asks what "on Saturday or Sunday" asks.
    for (const value of date?.value === 'weekend' ? ['sat', 'sun'] : date ? [date.value] : []) reading.dates.add(value);
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
    const isMath = (math || exponent) && (hasNumbers || !NUMBER_BOUND_OPERATIONS.has(token.lower)) && !isVerbMean(tokens, index);
    if (math && isMath) reading.operations.add(math);
    if (exponent && hasNumbers) reading.numbers.push(exponent);
    const task = TASKS.get(token.lower) ?? imperativeTask(tokens, index);
    if (task) reading.tasks.add(task);
    const sign = isMath ? undefined : POLARITY.get(token.lower) ?? comparativeSign(tokens, index);
    if (sign) reading.polarity.add(sign);
  }
}

/** "what does HTTP 404 mean": the verb; "the mean of 2, 4", "arithmetic mean": the average. */
function isVerbMean(tokens: Token[], index: number): boolean {
  if (!/^means?$|^meant$/.test(tokens[index].lower)) return false;
  return !(MEAN_BEFORE.has(tokens[index - 1]?.lower) || tokens[index + 1]?.lower === 'of');
}

const MEAN_BEFORE = new Set(['the', 'a', 'arithmetic', 'geometric', 'harmonic', 'sample', 'population', 'weighted']);

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
