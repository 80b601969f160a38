/** Embedding input after validation: text, or token ids, one entry per input. */
export type EmbeddingInput = { kind: 'text'; values: string[] } | { kind: 'tokens'; values: number[][] };

export interface EmbeddingRequest {
  model: string;
  input: EmbeddingInput;
  dimensions?: number;
  user?: string;
}

export interface EmbeddingResult {
  model: string;
  /** One vector per input, in input order, as float32-representable numbers. */
  vectors: number[][];
  usage: { prompt_tokens: number; total_tokens: number };
}
