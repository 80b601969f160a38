import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { MODERATION_CATEGORIES } from '../../../adapters/spec/index.js';
import { headOf } from '../../pipeline/attempt.js';
import type { LocalTaskPipeline } from '../../pipeline/local-task-pipeline.js';
import { moderationRequestSchema, sentimentRequestSchema } from '../other-request-schemas.js';
import { callContext } from '../request-context.js';
import { setRecordHeaders } from '../sluice-headers.js';
import { validate } from '../validate.js';

const asList = (input: string | string[]) => (typeof input === 'string' ? [input] : input);

/** Every input is text, so every category was judged on text (omni-moderation's field, which the SDK types require). */
const APPLIED_TO_TEXT = Object.fromEntries(MODERATION_CATEGORIES.map((category) => [category, ['text']]));

/**
 * `POST /v1/moderations`: OpenAI's answer, `{id, model, results: [{flagged, categories,
 * category_applied_input_types, category_scores}]}`, from a configured moderation model. A model
 * name Sluice does not know, or none when no moderation model is configured, goes on to the
 * passthrough (OpenAI's own moderation endpoint), as every other /v1 path does.
 */
export function moderationsRoute(pipeline: LocalTaskPipeline) {
  return async (request: Request, response: Response, next: NextFunction) => {
    const named = (request.body as { model?: unknown } | undefined)?.model;
    if (!pipeline.servesHere('moderate', named)) return next();
    const body = validate(moderationRequestSchema, request.body);
    const { result, record } = await pipeline.moderate({ model: body.model, inputs: asList(body.input) }, callContext(request, response));
    const head = headOf(record)!;
    setRecordHeaders(response, head, record);
    const results = result.results.map((verdict) => ({ flagged: verdict.flagged, categories: verdict.categories, category_applied_input_types: APPLIED_TO_TEXT, category_scores: verdict.category_scores }));
    response.json({ id: `modr-${randomUUID().replaceAll('-', '')}`, model: head.modelId, results });
  };
}

/**
 * `POST /v1/classifications/sentiment`: Sluice's own small shape, one entry per input with the
 * most likely label (lower-cased: SST-2 says POSITIVE) and its probability, plus every label's.
 */
export function sentimentRoute(pipeline: LocalTaskPipeline) {
  return async (request: Request, response: Response) => {
    const body = validate(sentimentRequestSchema, request.body);
    const { result, record } = await pipeline.classify({ model: body.model, inputs: asList(body.input) }, callContext(request, response));
    const head = headOf(record)!;
    setRecordHeaders(response, head, record);
    response.json({
      object: 'list',
      model: head.modelId,
      data: result.results.map(({ scores }, index) => {
        const lowered = Object.fromEntries(Object.entries(scores).map(([label, score]) => [label.toLowerCase(), score]));
        const [label, score] = Object.entries(lowered).reduce((best, entry) => (entry[1] > best[1] ? entry : best));
        return { object: 'sentiment', index, label, score, scores: lowered };
      }),
      usage: result.usage,
    });
  };
}
