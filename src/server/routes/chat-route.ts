import type { Request, Response } from 'express';
import type { ChatRequest } from '../../../adapters/spec/index.js';
import type { ChatPipeline } from '../../pipeline/chat-pipeline.js';
import { chatRequestSchema } from '../chat-request-schema.js';
import { callContext, stateOf } from '../request-context.js';
import { setAnswerHeaders } from '../sluice-headers.js';
import { pipeEventStream, startEventStream } from '../sse.js';
import { validate } from '../validate.js';
import { formatUsd } from '../../budget/price-table.js';
import { messagesText } from '../../pipeline/usage-estimate.js';
import type { SluiceMetrics } from '../../metrics/metrics.js';

export function chatCompletionsRoute(pipeline: ChatPipeline, metrics: SluiceMetrics) {
  return async (request: Request, response: Response) => {
    const body = validate(chatRequestSchema, request.body) as ChatRequest;
    const state = stateOf(response);
    state.inputText = messagesText(body.messages);
    const context = callContext(request, response);
    if (!body.stream) {
      const { completion, meta } = await pipeline.complete(body, context);
      state.meta = meta;
      setAnswerHeaders(response, meta, { includeCost: true });
      response.json(completion);
      return;
    }
    const answer = await pipeline.stream(body, context);
    state.meta = answer.meta;
    setAnswerHeaders(response, answer.meta, { includeCost: false });
    // The cost of a stream is known only at its end: it travels as an HTTP trailer.
    response.setHeader('trailer', 'x-sluice-cost-usd');
    startEventStream(response);
    const outcome = await pipeEventStream(response, answer.chunks, {
      onFirst: () => metrics.timeToFirstToken.observe({ route: answer.meta.route }, (performance.now() - state.startedAt) / 1000),
      trailers: (): Record<string, string> => {
        const cost = formatUsd(answer.meta.costUsd);
        return cost === undefined ? {} : { 'x-sluice-cost-usd': cost };
      },
    });
    if (outcome.error) state.error = outcome.error;
  };
}
