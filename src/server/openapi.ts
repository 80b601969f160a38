import { z } from 'zod';
import { chatRequestSchema } from './chat-request-schema.js';
import {
  embeddingRequestSchema,
  feedbackRequestSchema,
  moderationRequestSchema,
  ocrFieldsSchema,
  ocrRequestSchema,
  rerankRequestSchema,
  sentimentRequestSchema,
  transcriptionFieldsSchema,
} from './other-request-schemas.js';
import { vectorSearchRequestSchema } from './routes/vector-search-route.js';

const errorBody = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['message', 'type', 'param', 'code'],
      properties: { message: { type: 'string' }, type: { type: 'string' }, param: { type: ['string', 'null'] }, code: { type: ['string', 'null'] } },
    },
  },
};

const jsonBody = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) } } });
/** A multipart body: the `file` plus the schema's other fields. */
const multipartBody = (fields: z.ZodType) => {
  const schema = z.toJSONSchema(fields, { io: 'input', unrepresentable: 'any' }) as { properties?: object };
  return { ...schema, required: ['file'], properties: { file: { type: 'string', format: 'binary' }, ...schema.properties } };
};
/** POST /v1/rerank's answer, exactly (Cohere's shape). */
const rerankResponse = {
  type: 'object',
  required: ['id', 'model', 'results', 'usage', 'meta'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: '^rerank-' },
    model: { type: 'string' },
    results: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'relevance_score'],
        additionalProperties: false,
        properties: {
          index: { type: 'integer', minimum: 0 },
          relevance_score: { type: 'number', minimum: 0, maximum: 1 },
          document: { type: 'object', required: ['text'], additionalProperties: false, properties: { text: { type: 'string' } } },
        },
      },
    },
    usage: {
      type: 'object',
      required: ['prompt_tokens', 'total_tokens'],
      additionalProperties: false,
      properties: { prompt_tokens: { type: 'integer', minimum: 0 }, total_tokens: { type: 'integer', minimum: 0 } },
    },
    meta: {
      type: 'object',
      required: ['billed_units'],
      properties: { billed_units: { type: 'object', required: ['search_units'], properties: { search_units: { type: 'integer' } } } },
    },
  },
};
const errors = { default: { description: 'OpenAI-style error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } } };

let cached: object | undefined;

/** Sluice's own API, generated from the same zod schemas that validate requests. */
export function openApiDocument(): object {
  cached ??= {
    openapi: '3.1.0',
    info: { title: 'Sluice', version: '0.1.0', description: 'OpenAI-compatible gateway' },
    components: {
      schemas: { Error: errorBody },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
    security: [{ bearer: [] }],
    paths: {
      '/v1/chat/completions': { post: { summary: 'Chat completion (JSON or SSE)', requestBody: jsonBody(chatRequestSchema), responses: { 200: { description: 'chat.completion or text/event-stream of chat.completion.chunk' }, ...errors } } },
      '/v1/embeddings': {
        post: {
          summary: 'Embeddings',
          description:
            "With 'x-sluice-store: true' the text inputs and their vectors (which must be 384-d) are also written to the vector store; 'x-sluice-stored' says how many. 503 without a store. A multimodal model (clip-vit-b-32) also takes {\"text\"} / {\"image\"} objects in 'input' (data URL or base64; http(s) URLs only with images.allow_remote_urls): texts and images come back as vectors of one space; other models answer such input with a 400. A local model whose weights are missing answers 503 with code model_weights_missing.",
          parameters: [
            { name: 'x-sluice-store', in: 'header', required: false, schema: { type: 'string', enum: ['true', 'false'] } },
            { name: 'x-sluice-store-metadata', in: 'header', required: false, description: 'a JSON object stored with each input', schema: { type: 'string' } },
          ],
          requestBody: jsonBody(embeddingRequestSchema),
          responses: { 200: { description: 'list of embeddings', headers: { 'x-sluice-stored': { description: 'rows written to the vector store', schema: { type: 'integer' } } } }, ...errors },
        },
      },
      '/v1/vector/search': {
        post: {
          summary: 'Search the vector store',
          description: "Exactly one of 'query' (embedded with 'model', by default the first local embedding model) and 'vector' (384 numbers); 'filter' keeps rows whose metadata contains it. Results are ordered by score = 1 - cosine distance.",
          requestBody: jsonBody(vectorSearchRequestSchema),
          responses: { 200: { description: "list of vector_search_result: id, content, model, metadata, score" }, 503: { description: 'no vector store configured' }, ...errors },
        },
      },
      '/v1/feedback': {
        post: {
          summary: 'Rate an answer',
          description: "Exactly one of 'score' (0..1) and 'thumbs' (up = 1, down = 0) for a request made with the same API key, by its x-sluice-request-id; rating it again replaces the rating. 404 for a request this key did not make.",
          requestBody: jsonBody(feedbackRequestSchema),
          responses: { 200: { description: 'feedback: request_id, score, created_at (Unix seconds)' }, ...errors },
        },
      },
      '/v1/audio/transcriptions': {
        post: {
          summary: 'Transcription',
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  ...z.toJSONSchema(transcriptionFieldsSchema, { io: 'input', unrepresentable: 'any' }),
                  properties: { file: { type: 'string', format: 'binary' }, ...(z.toJSONSchema(transcriptionFieldsSchema, { io: 'input', unrepresentable: 'any' }) as { properties: object }).properties },
                },
              },
            },
          },
          responses: { 200: { description: 'json, text, srt, vtt or verbose_json' }, ...errors },
        },
      },
      '/v1/ocr': {
        post: {
          summary: 'Read the text in an image (OCR)',
          description: "A multipart 'file', or JSON with 'image' as a data URL or base64. Answers text (the blocks' text, one per line) and blocks: text, box (four [x, y] corners in pixels, clockwise from the top left) and score (0..1), top to bottom.",
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: z.toJSONSchema(ocrRequestSchema, { io: 'input', unrepresentable: 'any' }) },
              'multipart/form-data': { schema: multipartBody(ocrFieldsSchema) },
            },
          },
          responses: { 200: { description: 'text and blocks' }, ...errors },
        },
      },
      '/v1/moderations': {
        post: {
          summary: 'Moderation (OpenAI shape)',
          description: "Text inputs; 'model' absent: the first configured moderation model. A local model whose weights are missing answers 503 with code model_weights_missing.",
          requestBody: jsonBody(moderationRequestSchema),
          responses: { 200: { description: 'id, model, results: flagged, categories, category_applied_input_types, category_scores (all 13 OpenAI categories)' }, ...errors },
        },
      },
      '/v1/rerank': {
        post: {
          summary: 'Rerank documents by relevance to a query (Cohere / Jina shape)',
          description:
            "'model' absent or unknown: the local cross-encoder when its weights are present, else the local embedding model (cosine, floored at 0). Results best first, ties by index; top_n cuts the list; return_documents adds each document's text. A named cross-encoder without its weights answers 503 model_weights_missing.",
          requestBody: jsonBody(rerankRequestSchema),
          responses: { 200: { description: 'ranked results', content: { 'application/json': { schema: rerankResponse } } }, ...errors },
        },
      },
      '/v1/classifications/sentiment': {
        post: {
          summary: 'Sentiment per input',
          description: "'model' absent: the first configured sentiment model. data[i]: index, label (lower case), score, scores by label.",
          requestBody: jsonBody(sentimentRequestSchema),
          responses: { 200: { description: 'list of sentiment' }, ...errors },
        },
      },
      '/v1/models': { get: { summary: 'Configured models', responses: { 200: { description: 'list of models' }, ...errors } } },
      '/health': { get: { summary: 'Process up', security: [], responses: { 200: { description: 'ok' } } } },
      '/ready': { get: { summary: 'Models and dependencies ready', security: [], responses: { 200: { description: 'ready' }, 503: { description: 'not yet' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics', security: [], responses: { 200: { description: 'text exposition format' } } } },
    },
  };
  return cached;
}
