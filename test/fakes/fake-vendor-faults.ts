// Fault scenarios for the fault-injection suite (test/faults). The model name picks the fault, as
// everywhere in test/fakes:
//
// - `fake-flaky-500` / `fake-flaky-429` (OpenAI), `fake-flaky-529` (Anthropic): fail for a fixed
//   share of questions (FLAKY_SHARE), chosen by a hash of the last message, so a burst of distinct
//   questions fails that share of the time, and asking one question again fails the same way.
// - `fake-hangup`: the socket is destroyed before any byte of an answer, stream or not.
// - `fake-malformed-sse`: a valid first chunk, then a `data:` frame that is not JSON, then the end;
//   unstreamed, a 200 whose JSON body stops halfway.
// - `fake-malformed-first-sse`: a stream whose very first frame is not JSON (unstreamed: as above).
// - `fake-stall-after-first-chunk`: the first chunk of a stream, then silence until the client
//   leaves; unstreamed, the head and half a body, then silence.
import { createHash } from 'node:crypto';
import { scenarioError } from './fake-openai-scenarios.js';
import { newId, nowSeconds, openAIHeaders, type Exchange } from './fake-openai-wire.js';

/** The share of distinct questions a `fake-flaky-*` model fails. */
export const FLAKY_SHARE = 0.3;

const flakyStatus: Readonly<Record<string, number>> = { 'fake-flaky-500': 500, 'fake-flaky-429': 429, 'fake-flaky-529': 529 };

/** Whether `question` falls in the failing share: the first two bytes of its SHA-256, as a fraction. */
export function isInFailingShare(question: string): boolean {
  return createHash('sha256').update(question).digest().readUInt16BE(0) / 0x10000 < FLAKY_SHARE;
}

/** The status a flaky model fails this request with, or undefined when it answers. */
export function flakyFailure(model: unknown, messages: unknown): number | undefined {
  const status = typeof model === 'string' ? flakyStatus[model] : undefined;
  if (status === undefined) return undefined;
  return isInFailingShare(JSON.stringify(Array.isArray(messages) ? messages.at(-1) : messages)) ? status : undefined;
}

const brokenModels = ['fake-malformed-sse', 'fake-malformed-first-sse', 'fake-stall-after-first-chunk'] as const;

const garbageFrame = 'data: {"id":"chatcmpl-broken","choices":[{"delta":{"content":"tru\n\n';

/**
 * Answers an OpenAI chat request whose model is a fault scenario; resolves false (nothing written)
 * for any other model. Resolves once the fake is done with the exchange.
 */
export async function answerChatWithFault(exchange: Exchange, body: Record<string, unknown>): Promise<boolean> {
  const { model } = body;
  const status = flakyFailure(model, body.messages);
  if (status !== undefined) throw scenarioError(`fake-${status}`)!;
  if (model === 'fake-hangup') {
    exchange.isCutByServer = true;
    exchange.request.socket.destroy();
    return true;
  }
  const broken = brokenModels.find((name) => name === model);
  if (broken === undefined) return false;
  const { response } = exchange;
  if (body.stream !== true) {
    response.writeHead(200, { ...openAIHeaders(exchange), 'content-type': 'application/json' });
    response.write(`{"id":"${newId('chatcmpl-')}","object":"chat.completion","choices":[{"index":0,"message":{"role":"assist`);
    if (broken === 'fake-stall-after-first-chunk') return untilClientLeaves(exchange);
    response.end();
    return true;
  }
  response.writeHead(200, { ...openAIHeaders(exchange), 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  const firstChunk = {
    id: newId('chatcmpl-'),
    object: 'chat.completion.chunk',
    created: nowSeconds(),
    model,
    choices: [{ index: 0, delta: { role: 'assistant', content: 'You' }, logprobs: null, finish_reason: null }],
  };
  const firstFrame = `data: ${JSON.stringify(firstChunk)}\n\n`;
  if (broken === 'fake-malformed-first-sse') response.end(garbageFrame);
  else if (broken === 'fake-malformed-sse') response.end(firstFrame + garbageFrame);
  else {
    response.write(firstFrame);
    return untilClientLeaves(exchange);
  }
  return true;
}

function untilClientLeaves(exchange: Exchange): Promise<true> {
  return new Promise((resolve) => {
    if (exchange.signal.aborted) return resolve(true);
    exchange.signal.addEventListener('abort', () => resolve(true), { once: true });
  });
}
