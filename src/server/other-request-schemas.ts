import { z } from 'zod';

const tokenId = z.number().int().nonnegative();

/** OpenAI's embeddings request: a string, strings, a token array or token arrays. */
export const embeddingRequestSchema = z.strictObject({
  model: z.string().min(1),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1).max(2048),
    z.array(tokenId).min(1),
    z.array(z.array(tokenId).min(1)).min(1).max(2048),
  ], { error: 'must be a string, an array of strings, an array of token ids, or an array of token-id arrays' }),
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
