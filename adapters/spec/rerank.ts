/** A query and the texts to judge against it, for a cross-encoder: one score per document, in order. */
export interface RerankRequest {
  model: string;
  query: string;
  documents: string[];
}

export interface RerankResult {
  model: string;
  /** Each document's relevance to the query, in [0, 1], in the documents' order. */
  scores: number[];
  usage: { prompt_tokens: number; total_tokens: number };
}
