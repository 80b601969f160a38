import type { Request, Response } from 'express';
import type { ChatRequest } from '../../../adapters/spec/index.js';
import { headOf } from '../../pipeline/attempt.js';
import type { ChatPipeline } from '../../pipeline/chat-pipeline.js';
import type { SluiceMetrics } from '../../metrics/metrics.js';
import { chatRequestSchema } from '../chat-request-schema.js';
import { callContext, stateOf } from '../request-context.js';
import { costHeaders, setAnswerHeaders, setRecordHeaders } from '../sluice-headers.js';
import { pipeEventStream, startEventStream } from '../sse.js';
import { validate } from '../validate.js';

export function chatCompletionsRoute(pipeline: ChatPipeline, metrics: SluiceMetrics) {
  return async (request: Request, response: Response) => {
    const body = validate(chatRequestSchema, request.body) as ChatRequest;
    const state = stateOf(response);
    const context = callContext(request, response);
    if (!body.stream) {
      const { completion, record } = await pipeline.complete(body, context);
      setRecordHeaders(response, headOf(record)!, record);
      response.json(completion);
      return;
    }
    const answer = await pipeline.stream(body, context);
    setAnswerHeaders(response, answer.head);
    // The cost of a stream is known only at its end: it travels as an HTTP trailer.
    response.setHeader('trailer', 'x-sluice-cost-usd, x-sluice-cost-estimated');
    startEventStream(response);
    const outcome = await pipeEventStream(response, answer.chunks, {
      onFirst: () => metrics.timeToFirstToken.observe({ route: answer.head.route }, (performance.now() - state.startedAt) / 1000),
      trailers: () => (state.finished ? costHeaders(state.finished) : {}),
    });
    if (outcome.error) state.error = outcome.error;
  };
}
