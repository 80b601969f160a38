import { z } from 'zod';

const tokenId = z.number().int().nonnegative();

/** OpenAI's limit on inputs per embeddings request, for every model; a local backend may set a lower one. */
export const MAX_EMBEDDING_INPUTS = 2048;

/** A multimodal (CLIP) input, Jina's shape: `{"text": "..."}` or `{"image": "<data URL, base64 or http(s) URL>"}`. */
const embeddingPart = z.union([
  z.strictObject({ text: z.string() }),
  z.strictObject({ image: z.string().min(1).describe('A data URL (data:image/png;base64,...), bare base64, or an http(s) URL where images.allow_remote_urls allows.') }),
]);

/**
 * OpenAI's embeddings request: a string, strings, a token array or token arrays; for a
 * multimodal model (clip-vit-b-32), an array mixing strings with `{text}` / `{image}` objects.
 */
export const embeddingRequestSchema = z.strictObject({
  model: z.string().min(1),
  input: z
    .union([
      z.string(),
      z.array(z.string()).min(1),
      z.array(tokenId).min(1),
      z.array(z.array(tokenId).min(1)).min(1),
      z.array(z.union([z.string(), embeddingPart])).min(1),
    ], { error: 'must be a string, an array of strings, an array of token ids, an array of token-id arrays, or an array of strings and {"text"} / {"image"} objects' })
    // Counted once the shape is known: inside the union, 2,049 strings would be reported as
    // "input[0]: expected number" by the token-array branch.
    .check((context) => {
      const { value } = context;
      const count = typeof value === 'string' || typeof value[0] === 'number' ? 1 : value.length;
      if (count > MAX_EMBEDDING_INPUTS) {
        context.issues.push({ code: 'custom', input: value, message: `${count} inputs; at most ${MAX_EMBEDDING_INPUTS} inputs per request` });
      }
    })
    .describe(`A string, or an array of up to ${MAX_EMBEDDING_INPUTS} inputs (strings or token-id arrays; for a multimodal model, strings and {"text"} / {"image"} objects).`),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().max(8192).optional(),
  user: z.string().optional(),
});

export const TRANSCRIPTION_FORMATS = ['json', 'text', 'srt', 'vtt', 'verbose_json'] as const;

/** The non-file fields of a multipart transcription request, after multipart parsing. */
export const transcriptionFieldsSchema = z.strictObject({
  model: z.string().min(1),
  language: z.string().regex(/^[a-z]{2,3}$/, 'must be an ISO-639-1 language code such as "en"').optional(),
  prompt: z.string().optional(),
  response_format: z.enum(TRANSCRIPTION_FORMATS).optional(),
  temperature: z.coerce.number().min(0).max(1).optional(),
  'timestamp_granularities[]': z.union([z.enum(['word', 'segment']), z.array(z.enum(['word', 'segment']))]).optional(),
  timestamp_granularities: z.union([z.enum(['word', 'segment']), z.array(z.enum(['word', 'segment']))]).optional(),
  stream: z.enum(['true', 'false']).optional(),
  chunking_strategy: z.string().optional(),
  'include[]': z.union([z.string(), z.array(z.string())]).optional(),
});

/** Longest feedback comment accepted, in characters. */
export const MAX_FEEDBACK_COMMENT_CHARS = 4000;

/** `POST /v1/feedback`: exactly one of `score` and `thumbs` (checked by the route, which names the field). */
export const feedbackRequestSchema = z.strictObject({
  request_id: z
    .string()
    .regex(/^req_[A-Za-z0-9]{1,64}$/, 'must be a request id as sent in x-sluice-request-id, like "req_3f2a…"')
    .describe('The x-sluice-request-id of the answer being rated.'),
  score: z.number().min(0).max(1).optional().describe('0 (bad) .. 1 (good).'),
  thumbs: z.enum(['up', 'down']).optional().describe('up = score 1, down = score 0.'),
  comment: z.string().max(MAX_FEEDBACK_COMMENT_CHARS).optional(),
});

/** Most texts in one moderation or sentiment request (OpenAI documents none for moderation; this bounds the work). */
export const MAX_CLASSIFICATION_INPUTS = 2048;

const classifiedTexts = z
  .union([z.string(), z.array(z.string()).min(1).max(MAX_CLASSIFICATION_INPUTS)], { error: `must be a string or an array of 1 to ${MAX_CLASSIFICATION_INPUTS} strings` })
  .describe(`A string, or an array of up to ${MAX_CLASSIFICATION_INPUTS} strings.`);

/** OpenAI's moderation request, text inputs; `model` absent: the first configured moderation model. */
export const moderationRequestSchema = z.strictObject({
  model: z.string().min(1).optional(),
  input: classifiedTexts,
});

/** `POST /v1/classifications/sentiment`: Sluice's own, shaped like the moderation request. */
export const sentimentRequestSchema = z.strictObject({
  model: z.string().min(1).optional(),
  input: classifiedTexts,
});

/** `POST /v1/ocr` as JSON: the image as a data URL (`data:image/png;base64,…`) or bare base64. */
export const ocrRequestSchema = z.strictObject({
  model: z.string().min(1).optional(),
  image: z.string().min(1).describe('A data URL (data:image/png;base64,...) or base64 of a PNG, JPEG, WebP, BMP, GIF or TIFF image.'),
});

/** The non-file fields of a multipart `POST /v1/ocr`. */
export const ocrFieldsSchema = z.strictObject({
  model: z.string().min(1).optional(),
});

/** Most documents one rerank request may rank (Cohere's recommendation; the model reads each against the query). */
export const MAX_RERANK_DOCUMENTS = 1000;

/**
 * `POST /v1/rerank`, Cohere's and Jina's shape. A document is a string, or an object whose
 * `rank_fields` (default `["text"]`, Cohere v1) are strings, joined by newlines to make its text.
 */
export const rerankRequestSchema = z
  .strictObject({
    model: z.string().min(1).optional().describe("A rerank model; absent or unknown (e.g. 'rerank-english-v3.0'): the default local reranker."),
    query: z.string({ error: 'must be a string' }).min(1, 'must not be empty'),
    documents: z
      .array(z.union([z.string(), z.record(z.string(), z.unknown())], { error: 'each document must be a string or an object' }))
      .min(1, 'must hold at least one document')
      .max(MAX_RERANK_DOCUMENTS, `at most ${MAX_RERANK_DOCUMENTS} documents per request`)
      .describe(`Up to ${MAX_RERANK_DOCUMENTS} strings, or objects whose rank_fields are strings.`),
    top_n: z.number().int().min(1, 'must be at least 1').optional().describe('Return only the best top_n results (all when absent or larger).'),
    return_documents: z.boolean().optional().describe('Include each result\'s document text (default false).'),
    rank_fields: z.array(z.string().min(1)).min(1).optional().describe('The string fields of object documents to rank on, joined by newlines (default ["text"]).'),
  })
  .check((context) => {
    const fields = context.value.rank_fields ?? ['text'];
    context.value.documents.forEach((document, index) => {
      if (typeof document === 'string') return;
      const field = fields.find((name) => typeof document[name] !== 'string');
      if (field === undefined) return;
      const message = document[field] === undefined ? `has no '${field}' field (rank_fields: ${fields.join(', ')})` : `'${field}' must be a string`;
      context.issues.push({ code: 'custom', input: document, path: ['documents', index, field], message });
    });
  });

export type RerankRequest = z.infer<typeof rerankRequestSchema>;

/** A document's text as ranked: the string itself, or its rank_fields joined. */
export function rerankText(document: RerankRequest['documents'][number], rankFields: readonly string[] = ['text']): string {
  return typeof document === 'string' ? document : rankFields.map((field) => document[field] as string).join('\n');
}
