import type { Request, Response } from 'express';
import type { EmbeddingInput } from '../../../adapters/spec/index.js';
import { SluiceError } from '../../../adapters/spec/index.js';
import { headOf } from '../../pipeline/attempt.js';
import type { EmbeddingsPipeline } from '../../pipeline/embeddings-pipeline.js';
import type { VectorPipeline } from '../../pipeline/vector-pipeline.js';
import { embeddingRequestSchema } from '../other-request-schemas.js';
import { callContext } from '../request-context.js';
import { setRecordHeaders } from '../sluice-headers.js';
import { validate } from '../validate.js';
import { STORE_HEADER, storeRequestOf } from './vector-search-route.js';

export function toEmbeddingInput(input: string | string[] | number[] | number[][]): EmbeddingInput {
  if (typeof input === 'string') return { kind: 'text', values: [input] };
  if (typeof input[0] === 'string') return { kind: 'text', values: input as string[] };
  if (typeof input[0] === 'number') return { kind: 'tokens', values: [input as number[]] };
  return { kind: 'tokens', values: input as number[][] };
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
    const input = toEmbeddingInput(body.input);
    const toStore = storeRequestOf(request);
    if (toStore) {
      // Every refusal comes before the model is called, except a model whose vectors turn out not 384-d.
      if (!vectors) throw new SluiceError('upstream-unavailable', 'no vector store is configured', { code: 'vector_store_unavailable' });
      vectors.requireStore();
      if (input.kind !== 'text') {
        throw new SluiceError('invalid-request', `${STORE_HEADER} stores text: send 'input' as a string or an array of strings, not token ids`, { param: 'input' });
      }
      if (body.dimensions !== undefined) vectors.checkDimensions([new Array<number>(body.dimensions)], body.model, 'dimensions');
    }
    const { result, record } = await pipeline.embed(
      { model: body.model, input, dimensions: body.dimensions, user: body.user },
      callContext(request, response),
    );
    const head = headOf(record)!;
    setRecordHeaders(response, head, record);
    if (toStore && vectors && input.kind === 'text') {
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
