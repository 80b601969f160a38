import type { Request, Response } from 'express';
import type { EmbeddingInput } from '../../../adapters/spec/index.js';
import type { EmbeddingsPipeline } from '../../pipeline/embeddings-pipeline.js';
import { embeddingRequestSchema } from '../other-request-schemas.js';
import { callContext, stateOf } from '../request-context.js';
import { setAnswerHeaders } from '../sluice-headers.js';
import { validate } from '../validate.js';

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

export function embeddingsRoute(pipeline: EmbeddingsPipeline) {
  return async (request: Request, response: Response) => {
    const body = validate(embeddingRequestSchema, request.body);
    const input = toEmbeddingInput(body.input);
    stateOf(response).inputText = input.kind === 'text' ? input.values.join('\n') : `${input.values.length} token arrays`;
    const { result, meta } = await pipeline.embed(
      { model: body.model, input, dimensions: body.dimensions, user: body.user },
      callContext(request, response),
    );
    stateOf(response).meta = meta;
    setAnswerHeaders(response, meta, { includeCost: true });
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
