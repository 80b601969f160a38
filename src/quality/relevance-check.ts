import type { QualityCheck } from './quality-scorer.js';
import { tokensOf, viewOf } from './answer-view.js';
import { embeddingScorer } from './relevance-scorer.js';
import { rise } from './score-shape.js';

/** Unit vectors for the texts, in order (the local all-MiniLM-L6-v2, or a stand-in in tests). */
export type Embed = (texts: string[]) => Promise<number[][]>;

/**
 * An answer about something else: cosine(question, answer) in a sentence-embedding space. With
 * MiniLM a relevant answer sits around 0.3–0.8 and an unrelated one near 0, so only the very low
 * end counts against it; it is a soft check, since embeddings misjudge short or odd texts.
 */

/** Shorter answers ("42", "Paris") embed too thinly to compare; the shape checks judge them. */
const MIN_ANSWER_TOKENS = 4;
const MIN_QUESTION_TOKENS = 3;
const UNRELATED = 0.1;
const RELATED = 0.3;
/** Embedding only the opening keeps the call cheap; a drifting answer drifts from the start. */
const MAX_CHARS = 2000;

export function relevanceCheck(embed: Embed): QualityCheck {
  // The scorer POST /v1/rerank uses with the embedding model: one measure of relevance.
  const scorer = embeddingScorer(async (texts) => ({ vectors: await embed(texts), promptTokens: 0 }));
  return {
    name: 'relevance',
    weight: 0.6,
    async run(request, answer) {
      const view = viewOf(request, answer);
      if (view.hasToolCalls || (request.response_format && request.response_format.type !== 'text')) return undefined;
      if (tokensOf(view.text).length < MIN_ANSWER_TOKENS || tokensOf(view.ask).length < MIN_QUESTION_TOKENS) return undefined;
      let similarity: number;
      try {
        [similarity] = (await scorer(view.ask.slice(0, MAX_CHARS), [view.text.slice(0, MAX_CHARS)])).scores;
      } catch {
        // An embedder that fails says nothing about the answer.
        return undefined;
      }
      const score = rise(similarity, UNRELATED, RELATED);
      return score >= 1 ? 1 : { score, reason: 'relevance' };
    },
  };
}
