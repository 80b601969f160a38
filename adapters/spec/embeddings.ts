/** Embedding input after validation: text, or token ids, one entry per input. */
export type EmbeddingInput = { kind: 'text'; values: string[] } | { kind: 'tokens'; values: number[][] };

export interface EmbeddingRequest {
  model: string;
  input: EmbeddingInput;
  dimensions?: number;
  user?: string;
  /**
   * Set when the text was decoded from the client's token ids (OpenAI's encoding) for a backend
   * that takes text: the client's tokens per input. Input limits count these, as OpenAI would,
   * not the backend's own split of the decoded text, which may be longer.
   */
  clientTokenCounts?: readonly number[];
}

export interface EmbeddingResult {
  model: string;
  /** One vector per input, in input order, as float32-representable numbers. */
  vectors: number[][];
  usage: { prompt_tokens: number; total_tokens: number };
}
