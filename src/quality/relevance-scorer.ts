/**
 * How relevant texts are to a query, in [0, 1]: the one measure behind POST /v1/rerank and the
 * quality validator's relevance check, so the two never disagree about what "relevant" means.
 * Two scorers share the shape: a sentence-embedding model's cosine (always there: the local
 * all-MiniLM-L6-v2), and a cross-encoder that reads each (query, document) pair (ms-marco
 * MiniLM), whose adapter already answers in this shape.
 */

export interface RelevanceScores {
  /** One per document, in order, in [0, 1]. */
  scores: number[];
  /** Tokens the model read. */
  promptTokens: number;
}

export type RelevanceScorer = (query: string, documents: readonly string[]) => Promise<RelevanceScores>;

/** Vectors for the texts, in order, and the tokens read (the local embedding model's `embed`); `role` says which texts they are. */
export type EmbedTexts = (texts: string[], role: 'query' | 'documents') => Promise<{ vectors: ArrayLike<number>[]; promptTokens: number }>;

/**
 * max(0, cosine(query, document)): MiniLM puts unrelated texts near 0 and rarely below, and a
 * relevance below "unrelated" means nothing more. The query goes in its own call, so a limit
 * error from the model names the document by its own index.
 */
export function embeddingScorer(embed: EmbedTexts): RelevanceScorer {
  return async (query, documents) => {
    const [asked, judged] = await Promise.all([embed([query], 'query'), embed([...documents], 'documents')]);
    if (asked.vectors.length !== 1 || judged.vectors.length !== documents.length) {
      throw new Error(`the embedding model returned ${asked.vectors.length + judged.vectors.length} vectors for ${documents.length + 1} texts`);
    }
    return {
      scores: judged.vectors.map((vector) => Math.max(0, cosine(asked.vectors[0], vector))),
      promptTokens: asked.promptTokens + judged.promptTokens,
    };
  };
}

/** Dot product over the norms, so a stand-in that is not quite unit-length still compares right. */
export function cosine(left: ArrayLike<number>, right: ArrayLike<number>): number {
  let dot = 0;
  let leftNorm = 0;
  let rightNorm = 0;
  for (let index = 0; index < Math.min(left.length, right.length); index += 1) {
    dot += left[index] * right[index];
    leftNorm += left[index] * left[index];
    rightNorm += right[index] * right[index];
  }
  return leftNorm === 0 || rightNorm === 0 ? 0 : dot / Math.sqrt(leftNorm * rightNorm);
}
