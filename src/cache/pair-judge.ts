import { withoutCourtesy } from './courtesy.js';
import { nearMissVerdict, type NearMissVerdict } from './near-miss-guard.js';
import type { PromptFacts } from './prompt-facts.js';
import { promptEdit } from './prompt-edit.js';

/** One side of a candidate pair: the question as asked, and its facts (read without its courtesy: courtesy.ts). */
export interface JudgedPrompt {
  question: string;
  facts: PromptFacts;
}

/** Cosine similarity of two short phrases, by the local embedding model. */
export type PhraseSimilarity = (a: string, b: string) => Promise<number>;

/**
 * Whether a cached answer to `cached` answers `asked`, for two prompts whose embeddings are close:
 * their facts must agree (numbers, entities, negation, language… near-miss-guard.ts), the same
 * words must not have changed roles, and where one or two words were swapped for others the
 * swapped words must mean the same ("quickest" / "fastest", not "free" / "paid").
 */
export async function judgePair(cached: JudgedPrompt, asked: JudgedPrompt, similarity: PhraseSimilarity | undefined, wordThreshold: number): Promise<NearMissVerdict> {
  const verdict = nearMissVerdict(cached.facts, asked.facts);
  if (!verdict.same) return verdict;
  const edit = promptEdit(withoutCourtesy(cached.question), withoutCourtesy(asked.question));
  if (edit.kind === 'reordered') return { same: false, reason: 'the same words in roles swapped' };
  if (edit.kind !== 'substituted') return verdict;
  const [removed, added] = [edit.removed.join(' '), edit.added.join(' ')];
  // A word added or left out of an otherwise identical prompt narrows or widens the question.
  if (removed === '' || added === '') return { same: false, reason: `only in one prompt: "${removed || added}"` };
  if (!similarity) return { same: false, reason: `"${removed}" swapped for "${added}"` };
  const score = await similarity(removed, added);
  return score >= wordThreshold ? verdict : { same: false, reason: `"${removed}" swapped for "${added}" (${score.toFixed(2)})` };
}
