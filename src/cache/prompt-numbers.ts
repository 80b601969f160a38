import {
  GLUED_ONLY_UNITS, IMPLIED_EXPONENTS, NUMBER_ONLY_UNITS, NUMBER_SCALES, NUMBER_WORDS, ORDINAL_WORDS, PERCENT_WORDS,
  PREFIX_SYMBOLS, PRONOUN_ONE_BEFORE, SYMBOL_OPERATIONS, MATH_OPERATIONS, TEMPERATURE_SCALES, UNITS,
} from './prompt-lexicon.js';
import { claim, FRACTIONS, isPauseAfter, type Reading, type Token } from './prompt-tokens.js';

/**
 * Numbers and the units that qualify them, however they are written: "1,000,000", "1 million" and
 * "a million" are one number, so are "2½", "2.5" and "two and a half", "twice" and "2", "3 squared" and "3^2".
 */

const ORDINAL_SUFFIX = /^(?:st|nd|rd|th)$/;
/** Counts said as adverbs: "charged twice" is "two charges". */
const TIMES_WORDS: ReadonlyMap<string, string> = new Map([['twice', '2'], ['thrice', '3']]);
/** Units that "a" does not count after: "a bit nervous" is no bit of data. */
const IDIOM_AFTER_ARTICLE = new Set(['bit']);
/** Periods that "a" turns into a rate after a count ("three meals a day", "twice a week"): "per", not "1". */
const PERIODS = new Set(['second', 'minute', 'hour', 'day', 'week', 'month', 'year']);
/** "one" is the pronoun after these ("how does one…") and before these ("one for me", "one of them"). */
const PRONOUN_ONE_AFTER = new Set(['does', 'do', 'did', 'can', 'could', 'should', 'would', 'will', 'must', 'may', 'might', 'shall']);
const PRONOUN_ONE_BEFORE_WORDS = new Set(['of', 'for', 'with', 'that', 'which', 'who']);

export function readQuantities(reading: Reading): void {
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

/** Number words, ordinals and unit words; returns the index after what it read. */
function readWordQuantity(reading: Reading, index: number): number {
  const { tokens } = reading;
  const token = tokens[index];
  const unitAfter = tokens[index + 1]?.lower;
  // "a pound", "an hour": one of the unit, as "1 lb" and "1 hour" say.
  // Units that need a number glued to them are words after "a": "as a US citizen", "a b c".
  const isUnitAfter = UNITS.has(unitAfter) && !IDIOM_AFTER_ARTICLE.has(unitAfter) && !GLUED_ONLY_UNITS.has(unitAfter);
  if ((token.lower === 'a' || token.lower === 'an') && isUnitAfter) {
    if (PERIODS.has(unitAfter) && isCountBefore(tokens, index)) return claimUnit(reading, index, 2, UNITS.get(unitAfter)!, false);
    return readQuantity(reading, index, index + 1, '1');
  }
  const times = TIMES_WORDS.get(token.lower);
  if (times) return pushNumber(reading, index, index + 1, times);
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
  const scale = NUMBER_SCALES.get(next?.lower ?? '');
  if (scale !== undefined) return readQuantity(reading, start, end + 1, String(Number(value) * scale));
  if (next?.lower === 'and' && tokens[end + 1]?.lower === 'a' && tokens[end + 2]?.lower === 'half') {
    return readQuantity(reading, start, end + 3, String(Number(value) + 0.5));
  }
  reading.numbers.push(value);
  // "3 squared" is "3^2": the exponent is a number of the power asked for.
  const exponent = IMPLIED_EXPONENTS.get(next?.lower ?? '');
  if (exponent) {
    reading.operations.add('power');
    return pushNumber(reading, end, end + 1, exponent.replace('^', ''));
  }
  return readUnitAfter(reading, end);
}

/** "three meals a day", "2 hours a week", "twice a month": a count, then the period it is counted in. */
function isCountBefore(tokens: Token[], index: number): boolean {
  const before = tokens[index - 1];
  if (!before) return false;
  return before.kind === 'number' || TIMES_WORDS.has(before.lower) || NUMBER_WORDS.has(before.lower) || (before.lower.length > 3 && before.lower.endsWith('s') && !before.lower.endsWith('ss'));
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

/**
 * "which one", "how does one…", "write one for me", "the premium one, how…": a pronoun, no quantity; "one
 * plus one" counts.
 */
function isPronounOne(tokens: Token[], index: number): boolean {
  if (tokens[index].lower !== 'one') return false;
  const before = tokens[index - 1];
  const next = tokens[index + 1]?.lower;
  if (before && (MATH_OPERATIONS.has(before.lower) || SYMBOL_OPERATIONS.has(before.lower))) return false;
  if (PRONOUN_ONE_BEFORE.has(before?.lower) || PRONOUN_ONE_AFTER.has(before?.lower)) return true;
  return next === undefined || isPauseAfter(tokens, index) || PRONOUN_ONE_BEFORE_WORDS.has(next);
}

/** "1,000", "1 000" and "1000" are one number; so are "2.50" and "2.5". Versions ("3.1.4") stay as written. */
export function normaliseNumber(text: string): string {
  const fraction = FRACTIONS.get(text.at(-1) ?? '');
  if (fraction !== undefined) return String(Number(text.slice(0, -1) || '0') + fraction);
  const plain = text.replace(/[ ,]/g, '').replace('−', '-');
  if (plain.split('.').length > 2) return plain.split('.').map((part) => String(Number(part))).join('.');
  const value = Number(plain);
  return Number.isFinite(value) ? String(value) : plain;
}
