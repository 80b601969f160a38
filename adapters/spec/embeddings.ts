/** Embedding input after validation: text, or token ids, one entry per input. */
export type EmbeddingInput = { kind: 'text'; values: string[] } | { kind: 'tokens'; values: number[][] };

/** An image to embed, its type read from its bytes (PNG, JPEG, WebP, BMP, GIF or TIFF). */
export interface EmbeddingImage {
  data: Buffer;
  contentType: string;
}

/** One input of a multimodal (CLIP) request: a text or an image, embedded into one space. */
export type EmbeddingPart = { text: string } | { image: EmbeddingImage };

export interface EmbeddingRequest {
  model: string;
  input: EmbeddingInput;
  /**
   * A multimodal request's inputs, in order, for a model with the `vision` capability (CLIP).
   * `input` then holds one text per part ('' for an image), so counts and limits stay per input;
   * a backend that reads images reads these instead.
   */
  parts?: readonly EmbeddingPart[];
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
