import type { Request, Response } from 'express';
import { z } from 'zod';
import { SluiceError } from '../../../adapters/spec/index.js';
import { headOf } from '../../pipeline/attempt.js';
import { STORED_DIMENSIONS, type VectorPipeline } from '../../pipeline/vector-pipeline.js';
import { callContext } from '../request-context.js';
import { setRecordHeaders } from '../sluice-headers.js';
import { validate } from '../validate.js';

/** `POST /v1/vector/search`: exactly one of `query` and `vector`. */
export const vectorSearchRequestSchema = z.strictObject({
  query: z.string().min(1).optional(),
  vector: z.array(z.number()).length(STORED_DIMENSIONS, `must have exactly ${STORED_DIMENSIONS} numbers`).optional(),
  model: z.string().min(1).optional(),
  top_k: z.number().int().min(1).max(100).optional(),
  filter: z.record(z.string(), z.unknown()).optional(),
});

const DEFAULT_TOP_K = 5;

/** The store header of /v1/embeddings: `true` or `false`, anything else a 400 naming it. */
export const STORE_HEADER = 'x-sluice-store';
export const STORE_METADATA_HEADER = 'x-sluice-store-metadata';

export interface StoreRequest {
  metadata: Record<string, unknown>;
}

/** Reads `x-sluice-store` and `x-sluice-store-metadata`; undefined when nothing is to be stored. */
export function storeRequestOf(request: Request): StoreRequest | undefined {
  const flag = request.get(STORE_HEADER)?.trim().toLowerCase();
  const rawMetadata = request.get(STORE_METADATA_HEADER);
  if (flag === undefined || flag === '' || flag === 'false') {
    if (rawMetadata !== undefined) {
      throw new SluiceError('invalid-request', `the ${STORE_METADATA_HEADER} header needs '${STORE_HEADER}: true'`, { param: STORE_METADATA_HEADER });
    }
    return undefined;
  }
  if (flag !== 'true') throw new SluiceError('invalid-request', `the ${STORE_HEADER} header must be 'true' or 'false'`, { param: STORE_HEADER });
  if (rawMetadata === undefined) return { metadata: {} };
  let metadata: unknown;
  try {
    metadata = JSON.parse(rawMetadata);
  } catch (error) {
    throw new SluiceError('invalid-request', `the ${STORE_METADATA_HEADER} header is not valid JSON: ${(error as Error).message}`, { param: STORE_METADATA_HEADER });
  }
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new SluiceError('invalid-request', `the ${STORE_METADATA_HEADER} header must be a JSON object`, { param: STORE_METADATA_HEADER });
  }
  return { metadata: metadata as Record<string, unknown> };
}

export function vectorSearchRoute(vectors: VectorPipeline | undefined) {
  return async (request: Request, response: Response) => {
    const body = validate(vectorSearchRequestSchema, request.body);
    if (body.query !== undefined && body.vector !== undefined) {
      throw new SluiceError('invalid-request', "send exactly one of 'query' and 'vector', not both", { param: 'vector' });
    }
    if (body.query === undefined && body.vector === undefined) {
      throw new SluiceError('invalid-request', "Missing required parameter: 'query' (or 'vector').", { param: 'query', code: 'missing_required_parameter' });
    }
    if (!vectors) throw new SluiceError('upstream-unavailable', 'no vector store is configured', { code: 'vector_store_unavailable' });
    const answer = await vectors.search(
      { query: body.query, vector: body.vector, model: body.model, topK: body.top_k ?? DEFAULT_TOP_K, filter: body.filter },
      callContext(request, response),
    );
    const head = answer.record && headOf(answer.record);
    if (head) setRecordHeaders(response, head, answer.record!);
    response.json({
      object: 'list',
      data: answer.matches.map((match) => ({
        object: 'vector_search_result',
        id: match.id,
        content: match.content,
        model: match.modelId ?? null,
        metadata: match.metadata,
        score: 1 - match.distance,
      })),
      model: answer.model ?? null,
      usage: answer.usage,
    });
  };
}
