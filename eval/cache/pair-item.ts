import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

// Hand-written prompt pairs for judging the semantic cache. A paraphrase pair has one correct
// answer, so a cached answer to `a` may be served for `b`; a near-miss pair embeds close but has
// different answers, so serving `a`'s answer for `b` is a wrong answer. The pairs were written
// blind to the cache's code, so the eval does not bend to what it happens to do.

export const CACHE_PAIRS_DIR = dirname(fileURLToPath(import.meta.url));

/** Kinds of paraphrase: the same question, worded as different users word it. */
export const PARAPHRASE_CATEGORIES = [
  'reword',
  'synonym',
  'word-order',
  'formality',
  'typo',
  'verbosity',
  'question-vs-imperative',
  'multi-turn',
  // The same text pasted above the question, the question reworded.
  'pasted-text',
] as const;
export type ParaphraseCategory = (typeof PARAPHRASE_CATEGORIES)[number];

/** Kinds of near-miss: the one- or two-word change that makes `b` a different question. */
export const NEAR_MISS_CATEGORIES = [
  'number',
  'entity',
  'date',
  'unit',
  'negation',
  'swapped-comparison',
  'product',
  'language',
  'antonym',
  'operation',
  // The same text pasted above another question about it.
  'pasted-text',
] as const;
export type NearMissCategory = (typeof NEAR_MISS_CATEGORIES)[number];

export const PAIR_KINDS = ['paraphrase', 'near-miss'] as const;
export type PairKind = (typeof PAIR_KINDS)[number];

/** The language of a paraphrase pair written wholly in another language than English. */
export const PAIR_LANGUAGES = ['en', 'es', 'fr', 'de', 'pt', 'it'] as const;

const messageSchema = z.strictObject({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string().min(1),
});
export type PairMessage = z.infer<typeof messageSchema>;

const messagesSchema = z
  .array(messageSchema)
  .min(1)
  .refine((messages) => messages.at(-1)?.role === 'user', { message: 'the last message must be the user\'s: it is the question asked' })
  .refine((messages) => messages.every((message, index) => message.role !== 'system' || index === 0), {
    message: 'a system prompt may only be the first message',
  });

const common = {
  split: z.enum(['train', 'heldout']),
  a: messagesSchema,
  b: messagesSchema,
  /** Why the pair is (or is not) the same question, where that is not obvious. */
  note: z.string().min(1).optional(),
};

const pairShape = z.discriminatedUnion('kind', [
  z.strictObject({
    id: z.string().regex(/^p-\d{3}$/, 'a paraphrase id is p- and three digits, like p-001'),
    kind: z.literal('paraphrase'),
    category: z.enum(PARAPHRASE_CATEGORIES),
    /** Both sides' language; English when absent. The cache's embedding model is English-only. */
    lang: z.enum(PAIR_LANGUAGES).optional(),
    ...common,
  }),
  z.strictObject({
    id: z.string().regex(/^n-\d{3}$/, 'a near-miss id is n- and three digits, like n-001'),
    kind: z.literal('near-miss'),
    category: z.enum(NEAR_MISS_CATEGORIES),
    ...common,
  }),
]);

const sameMessage = (x: PairMessage, y: PairMessage): boolean => x.role === y.role && x.content === y.content;

/**
 * One pair. Only the last user turn may differ between `a` and `b`: the cache scopes entries by
 * system prompt and earlier turns, so a pair that differs there tests nothing about matching.
 */
export const pairSchema = pairShape
  .refine((pair) => pair.a.length === pair.b.length && pair.a.slice(0, -1).every((message, index) => sameMessage(message, pair.b[index])), {
    message: '`a` and `b` must share every message but the last (same system prompt, same earlier turns)',
    path: ['b'],
  })
  .refine((pair) => pair.a.at(-1)?.content !== pair.b.at(-1)?.content, {
    message: 'the last user turns of `a` and `b` are the same text',
    path: ['b'],
  });
export type CachePair = z.infer<typeof pairSchema>;

/** A pair with where it came from, for messages. */
export interface LoadedPair {
  pair: CachePair;
  /** `file:line`. */
  source: string;
}

/** The last user turn: the text that tells a paraphrase from a near-miss. */
export const lastTurn = (messages: readonly PairMessage[]): string => messages.at(-1)?.content ?? '';

/** Lowercase, accents kept, punctuation and runs of space folded: for spotting a pair written twice. */
export const normaliseText = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

/**
 * Reads and validates every `*.jsonl` of `dir`, in file-name order. Throws on the first line that
 * is not JSON or not a valid pair, and on an id used twice, naming the `file:line`.
 */
export function loadPairsWithSource(dir = CACHE_PAIRS_DIR): LoadedPair[] {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort();
  if (files.length === 0) throw new Error(`${dir}: no .jsonl files`);
  const loaded: LoadedPair[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    const lines = readFileSync(join(dir, file), 'utf8').split('\n');
    lines.forEach((line, index) => {
      if (line.trim() === '') return;
      const source = `${file}:${index + 1}`;
      const pair = parseLine(line, source);
      const first = seen.get(pair.id);
      if (first) throw new Error(`${source}: duplicate id ${pair.id} (first at ${first})`);
      seen.set(pair.id, source);
      loaded.push({ pair, source });
    });
  }
  return loaded;
}

/** The pairs alone; see `loadPairsWithSource`. */
export function loadPairs(dir = CACHE_PAIRS_DIR): CachePair[] {
  return loadPairsWithSource(dir).map(({ pair }) => pair);
}

function parseLine(line: string, source: string): CachePair {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (error) {
    throw new Error(`${source}: not JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = pairSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new Error(`${source}: ${issues.join('; ')}`);
  }
  return parsed.data;
}
