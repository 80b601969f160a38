import { withoutCourtesy } from './courtesy.js';
import { nearMissVerdict, type NearMissVerdict } from './near-miss-guard.js';
import type { PromptFacts } from './prompt-facts.js';
import { questionParts } from './prompt-clauses.js';
import { isPreposition, promptEdit, wordsOf } from './prompt-edit.js';
import { sameMeaning } from './word-senses.js';

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
 * swapped words must mean the same ("quickest" / "fastest", not "free" / "paid"): WordNet says
 * so first (word-senses.ts), the embedding model, which scores lone words poorly, second.
 */
export async function judgePair(cached: JudgedPrompt, asked: JudgedPrompt, similarity: PhraseSimilarity | undefined, wordThreshold: number): Promise<NearMissVerdict> {
  const verdict = nearMissVerdict(cached.facts, asked.facts);
  if (!verdict.same) return verdict;
  const edit = promptEdit(withoutCourtesy(cached.question), withoutCourtesy(asked.question));
  if (edit.kind === 'reordered') return { same: false, reason: 'the same words in roles swapped' };
  if (edit.kind !== 'substituted') return verdict;
  const unmatched = withoutSynonyms(edit.removed, edit.added);
  if (unmatched.removed.length === 0 && unmatched.added.length === 0) return verdict;
  if (isOnlyOneSidedContext(cached, unmatched.removed, asked, unmatched.added)) return verdict;
  const [removed, added] = [unmatched.removed.join(' '), unmatched.added.join(' ')];
  // A word added or left out of an otherwise identical prompt narrows or widens the question.
  if (removed === '' || added === '') return { same: false, reason: `only in one prompt: "${removed || added}"` };
  if (!similarity) return { same: false, reason: `"${removed}" swapped for "${added}"` };
  const score = await similarity(removed, added);
  return score >= wordThreshold ? verdict : { same: false, reason: `"${removed}" swapped for "${added}" (${score.toFixed(2)})` };
}

/**
 * Words that one prompt only has, all in what its asker says about themselves, where the other prompt says
 * nothing of the kind ("I'm still new here: when is payday?" / "when is payday"): as with the facts, talk
 * on one side only never vetoes (near-miss-guard.ts).
 */
function isOnlyOneSidedContext(cached: JudgedPrompt, removed: readonly string[], asked: JudgedPrompt, added: readonly string[]): boolean {
  const isInContext = (prompt: JudgedPrompt, words: readonly string[]) => {
    const context = new Set(wordsOf(questionParts(withoutCourtesy(prompt.question)).context));
    return words.every((word) => context.has(word));
  };
  if (cached.facts.context && !asked.facts.context && added.length === 0) return isInContext(cached, removed);
  if (asked.facts.context && !cached.facts.context && removed.length === 0) return isInContext(asked, added);
  return false;
}

/**
 * The swapped words left once synonyms are paired off, one word or a two-word phrase on either side
 * ("cancel" / "call off"). A preposition left over on one side only goes with the verb it followed
 * ("stop" / "to halt"), as promptEdit lets a lone preposition go.
 */
function withoutSynonyms(removedWords: readonly string[], addedWords: readonly string[]): { removed: string[]; added: string[] } {
  if (sameMeaning(removedWords.join(' '), addedWords.join(' '))) return { removed: [], added: [] };
  const removed = [...removedWords];
  const added = [...addedWords];
  let paired = false;
  for (let pair = synonymPair(removed, added); pair; pair = synonymPair(removed, added)) {
    removed.splice(pair.removed.at, pair.removed.length);
    added.splice(pair.added.at, pair.added.length);
    paired = true;
  }
  const isLoosePreposition = (left: string[], right: string[]) => paired && left.length === 0 && right.every(isPreposition);
  if (isLoosePreposition(removed, added) || isLoosePreposition(added, removed)) return { removed: [], added: [] };
  return { removed, added };
}

interface Span { at: number; length: number; text: string }

function synonymPair(removed: readonly string[], added: readonly string[]): { removed: Span; added: Span } | undefined {
  for (const left of spansOf(removed)) {
    const right = spansOf(added).find((span) => sameMeaning(left.text, span.text));
    if (right) return { removed: left, added: right };
  }
  return undefined;
}

/** Single words, then adjacent two-word phrases. */
function spansOf(words: readonly string[]): Span[] {
  const singles = words.map((text, at) => ({ at, length: 1, text }));
  const phrases = words.slice(1).map((word, index) => ({ at: index, length: 2, text: `${words[index]} ${word}` }));
  return [...singles, ...phrases];
}
