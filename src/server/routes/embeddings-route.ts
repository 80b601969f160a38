import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { EmbeddingInput } from '../../../adapters/spec/index.js';
import { SluiceError } from '../../../adapters/spec/index.js';
import { headOf } from '../../pipeline/attempt.js';
import type { EmbeddingsCallPart, EmbeddingsPipeline } from '../../pipeline/embeddings-pipeline.js';
import type { VectorPipeline } from '../../pipeline/vector-pipeline.js';
import { decodeImageString } from '../image-input.js';
import { embeddingRequestSchema } from '../other-request-schemas.js';
import { callContext } from '../request-context.js';
import { setRecordHeaders } from '../sluice-headers.js';
import { validate } from '../validate.js';
import { STORE_HEADER, storeRequestOf } from './vector-search-route.js';

type EmbeddingBodyInput = z.infer<typeof embeddingRequestSchema>['input'];

/** The validated `input` as the pipeline takes it: texts or token ids, and for objects one part per input. */
export function toEmbeddingInput(input: EmbeddingBodyInput): { input: EmbeddingInput; parts?: EmbeddingsCallPart[] } {
  if (typeof input === 'string') return { input: { kind: 'text', values: [input] } };
  if (input.every((item) => typeof item === 'string')) return { input: { kind: 'text', values: input as string[] } };
  if (typeof input[0] === 'number') return { input: { kind: 'tokens', values: [input as number[]] } };
  if (Array.isArray(input[0])) return { input: { kind: 'tokens', values: input as number[][] } };
  const parts = (input as (string | { text: string } | { image: string })[]).map((item, index): EmbeddingsCallPart => {
    if (typeof item === 'string') return { text: item };
    if ('text' in item) return { text: item.text };
    const param = `input[${index}].image`;
    // An http(s) URL is the pipeline's to fetch, SSRF-safe, where images.allow_remote_urls allows.
    return /^https?:\/\//i.test(item.image.trim()) ? { imageUrl: item.image.trim(), param } : { image: decodeImageString(item.image, param) };
  });
  return { input: { kind: 'text', values: parts.map((part) => ('text' in part ? part.text : '')) }, parts };
}

/** Little-endian float32, base64: what OpenAI sends for `encoding_format: "base64"`. */
export function toBase64(vector: number[]): string {
  const floats = new Float32Array(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}

/**
 * With `x-sluice-store: true` the texts and their vectors are also written to the vector store
 * (`x-sluice-stored: <n>` says how many); the OpenAI body is the same either way.
 */
export function embeddingsRoute(pipeline: EmbeddingsPipeline, vectors?: VectorPipeline) {
  return async (request: Request, response: Response) => {
    const body = validate(embeddingRequestSchema, request.body);
    const { input, parts } = toEmbeddingInput(body.input);
    const toStore = storeRequestOf(request);
    if (toStore) {
      // Every refusal comes before the model is called, except a model whose vectors turn out not 384-d.
      if (!vectors) throw new SluiceError('upstream-unavailable', 'no vector store is configured', { code: 'vector_store_unavailable' });
      vectors.requireStore();
      if (input.kind !== 'text' || parts) {
        throw new SluiceError('invalid-request', `${STORE_HEADER} stores text: send 'input' as a string or an array of strings, not token ids or objects`, { param: 'input' });
      }
      if (body.dimensions !== undefined) vectors.checkDimensions([new Array<number>(body.dimensions)], body.model, 'dimensions');
    }
    const { result, record } = await pipeline.embed(
      { model: body.model, input, parts, dimensions: body.dimensions, user: body.user },
      callContext(request, response),
    );
    const head = headOf(record)!;
    setRecordHeaders(response, head, record);
    if (toStore && vectors && input.kind === 'text' && !parts) {
      vectors.checkDimensions(result.vectors, head.modelId, 'model');
      const ids = await vectors.save(input.values, result.vectors, head.modelId, toStore.metadata);
      response.setHeader('x-sluice-stored', String(ids.length));
    }
    const asBase64 = body.encoding_format === 'base64';
    response.json({
      object: 'list',
      data: result.vectors.map((vector, index) => ({
        object: 'embedding',
        index,
        embedding: asBase64 ? toBase64(vector) : Array.from(new Float32Array(vector)),
      })),
      model: result.model,
      usage: result.usage,
    });
  };
}
