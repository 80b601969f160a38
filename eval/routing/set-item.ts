import { z } from 'zod';

import { TIERS, type Tier } from '../../src/config/schema.js';

/** The tiers of DESIGN.md §2, in the plan's order: the gateway's own. */
export { TIERS };
export type SetTier = Tier;

/** The language the request is written in (its last user turn), ISO 639-1; a translation's answer may be in another. */
export const LANGUAGES = ['en', 'es', 'fr', 'de', 'pt', 'zh', 'ja', 'ru', 'it'] as const;
export type Language = (typeof LANGUAGES)[number];

/** The id's prefix names its tier, so a misfiled item is caught: `s-001` is simple. */
export const ID_PREFIX: Readonly<Record<SetTier, string>> = { simple: 's', medium: 'm', high: 'h', creative: 'c', brand: 'b' };

const words = z.array(z.string().min(1)).min(1);

/** How an answer to an item is judged automatically (answer-check.ts applies it). */
export const checkSchema = z.discriminatedUnion('kind', [
  /** Case-insensitive substrings: at least one of `any`, every one of `all`. */
  z
    .strictObject({ kind: z.literal('contains'), any: words.optional(), all: words.optional() })
    .refine((check) => check.any || check.all, { message: 'a contains check needs `any` or `all`' }),
  /** Some number in the answer is `value` ± `tolerance`. */
  z.strictObject({ kind: z.literal('number'), value: z.number(), tolerance: z.number().min(0) }),
  /** Exactly one of `labels` appears in the answer, and it is `expected`. */
  z
    .strictObject({ kind: z.literal('label'), labels: words.min(2), expected: z.string().min(1) })
    .refine((check) => check.labels.includes(check.expected), { message: '`expected` must be one of `labels`', path: ['expected'] }),
  /** The answer (a code fence around it allowed) is a JSON object with these keys. */
  z.strictObject({ kind: z.literal('json'), required: z.array(z.string().min(1)) }),
  /** The answer is written in this language, and is at least `minWords` long. */
  z.strictObject({ kind: z.literal('language'), code: z.enum(LANGUAGES), minWords: z.number().int().positive().optional() }),
  /** An open task: any answer of at least `minWords` (CJK characters count as half a word). */
  z.strictObject({ kind: z.literal('nonempty'), minWords: z.number().int().positive() }),
  /**
   * A tool call is the right answer: the oracle is `{"name": ..., "arguments": {...}}`. `name` is
   * the function to call, or the functions any of which is a sound first step; the arguments must
   * hold `required`.
   */
  z.strictObject({ kind: z.literal('tool_call'), name: z.union([z.string().min(1), words]), required: z.array(z.string().min(1)).default([]) }),
]);
export type AnswerCheck = z.infer<typeof checkSchema>;

/**
 * One labelled request. `messages`, `tools` and `response_format` are checked against the
 * gateway's own request schema (check-set.ts), so every item is a request Sluice accepts.
 */
export const setItemSchema = z.strictObject({
  id: z.string().regex(/^[smhcb]-\d{3}$/, 'an id is a tier letter and three digits, like s-001'),
  split: z.enum(['train', 'heldout']),
  tier: z.enum(TIERS),
  lang: z.enum(LANGUAGES),
  messages: z.array(z.record(z.string(), z.unknown())).min(1),
  tools: z.array(z.record(z.string(), z.unknown())).min(1).optional(),
  response_format: z.record(z.string(), z.unknown()).optional(),
  check: checkSchema,
  /** A correct reference answer, written for this set, that a fake vendor can send back. */
  oracle: z.string().min(1),
  /** Why the item has its tier, where that is not obvious. */
  note: z.string().min(1).optional(),
});
export type SetItem = z.infer<typeof setItemSchema>;
