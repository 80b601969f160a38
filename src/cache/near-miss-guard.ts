import { ONE_SIDED_AXES, ORDERED_OPERATIONS } from './prompt-lexicon.js';
import type { PromptFacts, TextFacts } from './prompt-facts.js';

/**
 * Embeddings put "What is 15% of 80?" next to "What is 15% of 90?". Before a semantic hit is served, the facts
 * of the cached prompt and the asked one must agree on everything that changes the answer. Content words may
 * differ (paraphrases reword), so only the facts below can veto.
 *
 * The facts of the part that asks are compared strictly. A fact may move between the question and the
 * asker's statements around it ("I weigh 80 kg. How much protein…" / "how much protein at 80 kg"), so a
 * difference there is forgiven when the prompts' facts agree as a whole — except negation, whose place
 * decides what it negates. Statements on one side only ("I'm visiting the Louvre next week.") never veto;
 * statements on both sides must agree too ("I'm 25, …" / "I'm 45, …").
 */
export type NearMissVerdict = { same: true } | { same: false; reason: string };

type PromptCheck = (cached: PromptFacts, asked: PromptFacts) => string | undefined;
type FactCheck = (cached: TextFacts, asked: TextFacts) => string | undefined;

const SAME: NearMissVerdict = { same: true };

const PROMPT_CHECKS: readonly PromptCheck[] = [
  (cached, asked) => (cached.v === asked.v ? undefined : `facts version differs: ${cached.v} vs ${asked.v}`),
  (cached, asked) => languageDiffers(cached.language, asked.language),
  targetDiffers,
];

const negationDiffers: FactCheck = (cached, asked) =>
  (cached.negations % 2 === asked.negations % 2 ? undefined : `negation differs: ${cached.negations} vs ${asked.negations}`);

/** Cheapest and most telling first; the first difference found is the reason logged. */
const FACT_CHECKS: readonly FactCheck[] = [
  negationDiffers,
  (cached, asked) => listDiffers('operations', cached.operations, asked.operations),
  (cached, asked) => (tasksConflict(cached.tasks, asked.tasks) ? `tasks differ: ${show(cached.tasks)} vs ${show(asked.tasks)}` : undefined),
  polarityDiffers,
  entitiesDiffer,
  numbersDiffer,
  // A unit named on one side only is mostly a rewording ("how long" / "how many minutes").
  (cached, asked) => (cached.units.length > 0 && asked.units.length > 0 ? listDiffers('units', cached.units, asked.units) : undefined),
  (cached, asked) => listDiffers('dates', cached.dates, asked.dates),
  directionDiffers,
];

export function nearMissVerdict(cached: PromptFacts, asked: PromptFacts): NearMissVerdict {
  for (const check of PROMPT_CHECKS) {
    const reason = check(cached, asked);
    if (reason) return { same: false, reason };
  }
  [cached, asked] = [againstStatements(cached, asked), againstStatements(asked, cached)];
  const [cachedWhole, askedWhole] = [wholeOf(cached), wholeOf(asked)];
  for (const check of FACT_CHECKS) {
    const reason = check(cached, asked);
    const isMoved = reason !== undefined && check !== negationDiffers && (cached.context || asked.context) && !check(cachedWhole, askedWhole);
    if (reason && !isMoved) return { same: false, reason };
  }
  if (!cached.context || !asked.context) return SAME;
  for (const check of FACT_CHECKS) {
    const reason = check(cached.context, asked.context);
    if (reason) return { same: false, reason: `in what the asker says: ${reason}` };
  }
  return SAME;
}

/**
 * A prompt of statements only ("my pc wont turn on help") says in them what the other prompt may split into
 * statement and question ("My computer does not power on. Could you assist me?"): the other is read whole.
 */
function againstStatements(facts: PromptFacts, other: PromptFacts): PromptFacts {
  return other.onlyStatements && facts.context ? { ...facts, ...wholeOf(facts), context: null } : facts;
}

/** The asking part and the context read as one text: context first, as it usually comes. */
function wholeOf(facts: PromptFacts): TextFacts {
  const context = facts.context;
  if (!context) return facts;
  const union = (field: 'units' | 'dates' | 'entities' | 'words' | 'polarity' | 'operations' | 'tasks') => [...new Set([...context[field], ...facts[field]])].sort();
  return {
    numbers: [...context.numbers, ...facts.numbers],
    units: union('units'),
    dates: union('dates'),
    entities: union('entities'),
    words: union('words'),
    negations: context.negations + facts.negations,
    polarity: union('polarity'),
    operations: union('operations'),
    tasks: union('tasks'),
    direction: facts.direction ?? context.direction,
  };
}

/** Facts read back from a store; anything of another version or shape is undefined (the entry then misses). */
export function readFacts(value: unknown): PromptFacts | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const facts = value as Record<string, unknown>;
  const isShaped = facts.v === 2
    && typeof facts.language === 'string'
    && (facts.targetLanguage === null || typeof facts.targetLanguage === 'string')
    && typeof facts.onlyStatements === 'boolean'
    && isTextFacts(facts)
    && (facts.context === null || (typeof facts.context === 'object' && isTextFacts(facts.context as Record<string, unknown>)));
  return isShaped ? (facts as unknown as PromptFacts) : undefined;
}

function isTextFacts(facts: Record<string, unknown>): boolean {
  return Number.isInteger(facts.negations) && (facts.negations as number) >= 0
    && LIST_FIELDS.every((field) => isStringList(facts[field]))
    && (facts.direction === null || (isStringList(facts.direction) && (facts.direction as string[]).length === 2));
}

const LIST_FIELDS = ['numbers', 'units', 'dates', 'entities', 'words', 'polarity', 'operations', 'tasks'] as const;

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

const SCRIPT_OF: Readonly<Record<string, string>> = { zh: 'Hani', ja: 'Jpan', ko: 'Kore', he: 'Hebr', el: 'Grek', th: 'Thai', ru: 'Cyrl', uk: 'Cyrl', ar: 'Arab', hi: 'Deva' };

/** "und" (Latin letters, language unsure) and "und-Cyrl" only claim a script, so they agree with any language written in it. */
function scriptOf(language: string): string {
  return language.startsWith('und-') ? language.slice(4) : SCRIPT_OF[language] ?? 'Latn';
}

function languageDiffers(cached: string, asked: string): string | undefined {
  const isUnsure = cached.startsWith('und') || asked.startsWith('und');
  const same = cached === asked || (isUnsure && scriptOf(cached) === scriptOf(asked));
  return same ? undefined : `language differs: ${cached} vs ${asked}`;
}

/**
 * The answer comes in the language asked for, else in the prompt's own. Against an explicit target an unsure
 * guess ("und") vouches for nothing: "Explain recursion" must not be served "Explain recursion in French".
 */
function targetDiffers(cached: PromptFacts, asked: PromptFacts): string | undefined {
  if (cached.targetLanguage === asked.targetLanguage) return undefined;
  const cachedAnswer = cached.targetLanguage ?? cached.language;
  const askedAnswer = asked.targetLanguage ?? asked.language;
  return cachedAnswer === askedAnswer ? undefined : `target language differs: ${cachedAnswer} vs ${askedAnswer}`;
}

function listDiffers(what: string, cached: readonly string[], asked: readonly string[]): string | undefined {
  return sameList(cached, asked) ? undefined : `${what} differ: ${show(cached)} vs ${show(asked)}`;
}

/** One prompt naming no task ("what is X?") may still ask what the other does ("explain X"); two disjoint tasks never do. */
function tasksConflict(cached: readonly string[], asked: readonly string[]): boolean {
  return cached.length > 0 && asked.length > 0 && !cached.some((task) => asked.includes(task));
}

/** Opposite ends of one axis always veto; an axis marked on one side only vetoes where unmarked means otherwise. */
function polarityDiffers(cached: TextFacts, asked: TextFacts): string | undefined {
  const axisOf = (sign: string) => sign.slice(0, sign.indexOf(':'));
  const cachedAxes = new Set(cached.polarity.map(axisOf));
  const askedAxes = new Set(asked.polarity.map(axisOf));
  for (const axis of new Set([...cachedAxes, ...askedAxes])) {
    const isShared = cachedAxes.has(axis) && askedAxes.has(axis);
    if (!isShared && !ONE_SIDED_AXES.has(axis)) continue;
    const cachedSigns = cached.polarity.filter((sign) => axisOf(sign) === axis);
    const askedSigns = asked.polarity.filter((sign) => axisOf(sign) === axis);
    if (!sameList(cachedSigns, askedSigns)) return `polarity differs: ${show(cachedSigns)} vs ${show(askedSigns)}`;
  }
  return undefined;
}

/**
 * Equal as sets, allowing a typo. An entity one prompt capitalises may sit lowercase among the other's words
 * ("France" / "france"), so a missing entity only vetoes when the other prompt does not mention it at all.
 */
function entitiesDiffer(cached: TextFacts, asked: TextFacts): string | undefined {
  const missing = (from: TextFacts, other: TextFacts) => from.entities.filter(
    (entity) => !other.entities.some((candidate) => isSameWord(entity, candidate)) && !other.words.some((word) => isSameWord(entity, word)),
  );
  const cachedOnly = missing(cached, asked);
  const askedOnly = missing(asked, cached);
  if (cachedOnly.length === 0 && askedOnly.length === 0) return undefined;
  return `entities differ: ${show(cachedOnly)} vs ${show(askedOnly)}`;
}

/** Multisets, and in order when the operation does not commute ("10 minus 3" is not "3 minus 10"). */
function numbersDiffer(cached: TextFacts, asked: TextFacts): string | undefined {
  const isOrdered = cached.operations.some((operation) => ORDERED_OPERATIONS.has(operation));
  const same = isOrdered ? sameList(cached.numbers, asked.numbers) : sameList([...cached.numbers].sort(), [...asked.numbers].sort());
  return same ? undefined : `numbers differ: ${show(cached.numbers)} vs ${show(asked.numbers)}`;
}

/** Swapped ends ("kg to lb" / "lb to kg"), or one end kept and the other changed, ask something else. */
function directionDiffers(cached: TextFacts, asked: TextFacts): string | undefined {
  if (!cached.direction || !asked.direction) return undefined;
  const [cachedFrom, cachedTo] = cached.direction;
  const [askedFrom, askedTo] = asked.direction;
  const sameFrom = isSameWord(cachedFrom, askedFrom);
  const sameTo = isSameWord(cachedTo, askedTo);
  const isSwapped = isSameWord(cachedFrom, askedTo) && isSameWord(cachedTo, askedFrom) && !sameFrom;
  if (!isSwapped && sameFrom === sameTo) return undefined;
  return `direction differs: ${cachedFrom} → ${cachedTo} vs ${askedFrom} → ${askedTo}`;
}

function sameList(cached: readonly string[], asked: readonly string[]): boolean {
  return cached.length === asked.length && cached.every((item, index) => item === asked[index]);
}

const TYPO_MIN_LETTERS = 6;
const DIGIT = /\d/;

/** Equal, or one typo apart in a long word without digits ("pyhton3" is not "python3"; "iphone14" is not "iphone15"). */
function isSameWord(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.min(a.length, b.length) < TYPO_MIN_LETTERS || DIGIT.test(a) || DIGIT.test(b)) return false;
  return Math.abs(a.length - b.length) <= 1 && editDistanceAtMostOne(a, b);
}

/** Optimal string alignment bounded at 1: one insertion, deletion, substitution or adjacent swap. */
function editDistanceAtMostOne(a: string, b: string): boolean {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  const restA = a.slice(start);
  const restB = b.slice(start);
  if (restA.length === restB.length) {
    return restA.slice(1) === restB.slice(1) || (restA[0] === restB[1] && restA[1] === restB[0] && restA.slice(2) === restB.slice(2));
  }
  return restA.length > restB.length ? restA.slice(1) === restB : restB.slice(1) === restA;
}

function show(values: readonly string[]): string {
  return values.length === 0 ? '(none)' : values.join(', ');
}
