import { withoutCourtesy } from './courtesy.js';
import { nearMissVerdict, type NearMissVerdict } from './near-miss-guard.js';
import { promptFacts, type PromptFacts } from './prompt-facts.js';
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
export async function judgePair(cached: JudgedPrompt, asked: JudgedPrompt, similarity: PhraseSimilarity | undefined, wordThreshold: number, askThreshold = wordThreshold): Promise<NearMissVerdict> {
  const verdict = nearMissVerdict(cached.facts, asked.facts);
  if (!verdict.same) return verdict;
  const asks = await judgeAsks(cached.question, asked.question, similarity, askThreshold);
  if (asks && !asks.same) return asks;
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

/** A text pasted above a question is at least this long: it, not the question, then dominates the embedding. */
const MIN_DOCUMENT_CHARS = 120;

/** The question under a pasted text: the last paragraph, when the paragraphs above it hold a text that long. */
export function askUnderDocument(question: string): string | undefined {
  const cut = question.lastIndexOf('\n\n');
  return cut >= MIN_DOCUMENT_CHARS ? question.slice(cut + 2) : undefined;
}

/**
 * Two prompts that paste the same text (a memo, a chat transcript) embed close whatever they ask
 * about it ("how did the customer feel?" / "what is the booking reference?"): where either pastes
 * one, the questions under it must be close on their own, and agree on their facts.
 */
async function judgeAsks(cached: string, asked: string, similarity: PhraseSimilarity | undefined, threshold: number): Promise<NearMissVerdict | undefined> {
  const [cachedAsk, askedAsk] = [askUnderDocument(cached), askUnderDocument(asked)];
  if (cachedAsk === undefined && askedAsk === undefined) return undefined;
  const [left, right] = [cachedAsk ?? cached, askedAsk ?? asked];
  if (left === right) return undefined;
  const facts = nearMissVerdict(promptFacts(withoutCourtesy(left)), promptFacts(withoutCourtesy(right)));
  if (!facts.same) return facts;
  if (!similarity) return { same: false, reason: 'other questions about a pasted text' };
  const score = await similarity(left, right);
  return score >= threshold ? undefined : { same: false, reason: `other questions about a pasted text (${score.toFixed(2)})` };
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
