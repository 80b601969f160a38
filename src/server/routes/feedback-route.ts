import type { Request, Response } from 'express';
import { SluiceError } from '../../../adapters/spec/index.js';
import type { SluiceMetrics } from '../../metrics/metrics.js';
import type { FeedbackStore } from '../../store/feedback-store.js';
import { feedbackRequestSchema } from '../other-request-schemas.js';
import { stateOf } from '../request-context.js';
import { validate } from '../validate.js';

/**
 * `POST /v1/feedback`: the caller rates one of its own answers, by the x-sluice-request-id it got.
 * Exactly one of `score` (0..1) and `thumbs` (up = 1, down = 0); rating again replaces the rating.
 * A request made under another key is as unknown as one never made: 404 either way.
 */
export function feedbackRoute(store: FeedbackStore | undefined, metrics: SluiceMetrics) {
  return async (request: Request, response: Response) => {
    const body = validate(feedbackRequestSchema, request.body);
    if (body.score !== undefined && body.thumbs !== undefined) {
      throw new SluiceError('invalid-request', "send exactly one of 'score' and 'thumbs', not both", { param: 'thumbs' });
    }
    if (body.score === undefined && body.thumbs === undefined) {
      throw new SluiceError('invalid-request', "Missing required parameter: 'score' (or 'thumbs').", { param: 'score', code: 'missing_required_parameter' });
    }
    if (!store) throw new SluiceError('upstream-unavailable', 'no feedback store is configured', { code: 'feedback_store_unavailable' });
    // Six decimals: the column is a 4-byte real, which refuses what it cannot hold (5e-324 is an error, not 0).
    const score = body.thumbs === undefined ? Math.round(body.score! * 1e6) / 1e6 : body.thumbs === 'up' ? 1 : 0;
    const saved = await store.save({ requestId: body.request_id, tenant: stateOf(response).tenant!.name, score, comment: body.comment });
    if (!saved) {
      throw new SluiceError('not-found', `No request '${body.request_id}' was made with this API key.`, { param: 'request_id', code: 'request_not_found' });
    }
    metrics.feedback.inc({ rating: body.thumbs ?? 'score' });
    response.json({ object: 'feedback', request_id: saved.requestId, score: saved.score, created_at: Math.floor(saved.createdAt.getTime() / 1000) });
  };
}
