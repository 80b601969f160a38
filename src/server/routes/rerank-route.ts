import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { headOf } from '../../pipeline/attempt.js';
import type { LocalTaskPipeline } from '../../pipeline/local-task-pipeline.js';
import { rerankRequestSchema, rerankText } from '../other-request-schemas.js';
import { callContext } from '../request-context.js';
import { setRecordHeaders } from '../sluice-headers.js';
import { validate } from '../validate.js';

export interface RankedResult {
  index: number;
  relevance_score: number;
  document?: { text: string };
}

/**
 * Results best first; equal scores by document order, so the same request always answers the
 * same list (a sort on the score alone leaves ties to the engine).
 */
export function rankResults(scores: readonly number[], texts: readonly string[], topN: number | undefined, withDocuments: boolean): RankedResult[] {
  const order = scores.map((_, index) => index).sort((left, right) => scores[right] - scores[left] || left - right);
  return order.slice(0, topN ?? order.length).map((index) => ({
    index,
    relevance_score: scores[index],
    ...(withDocuments ? { document: { text: texts[index] } } : {}),
  }));
}

/**
 * `POST /v1/rerank`: Cohere's (and Jina's) answer, `{id, model, results: [{index,
 * relevance_score, document?}], usage, meta}`, from a local reranker — a cross-encoder, or the
 * embedding model's cosine (local-task-pipeline.ts picks). Sluice's headers and one log row
 * per attempt, as every endpoint has.
 */
export function rerankRoute(pipeline: LocalTaskPipeline) {
  return async (request: Request, response: Response) => {
    const body = validate(rerankRequestSchema, request.body);
    const texts = body.documents.map((document) => rerankText(document, body.rank_fields));
    const { result, record } = await pipeline.rerank({ model: body.model, query: body.query, documents: texts }, callContext(request, response));
    const head = headOf(record)!;
    setRecordHeaders(response, head, record);
    response.json({
      id: `rerank-${randomUUID().replaceAll('-', '')}`,
      model: head.modelId,
      results: rankResults(result.scores, texts, body.top_n, body.return_documents ?? false),
      usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
      meta: { billed_units: { search_units: 1 } },
    });
  };
}
