// The chat completion as OpenAI streams it: a role chunk, one word per content delta (tool calls: a header
// delta, then argument fragments), a finish chunk, the usage chunk when asked for, then `data: [DONE]`.
import type { CompletionPlan, PlannedChoice } from './fake-openai-chat.js';
import { setTimeout as delay } from 'node:timers/promises';
import { streamErrorBody, trickleIntervalMs, type StreamScenario } from './fake-openai-scenarios.js';
import { cutConnectionAfter, openEventStream, type Exchange } from './fake-openai-wire.js';

type Delta = Record<string, unknown>;

interface StreamOptions {
  includeUsage: boolean;
  scenario: StreamScenario | undefined;
}

export function streamCompletion(exchange: Exchange, plan: CompletionPlan, options: StreamOptions): void {
  const stream = openEventStream(exchange);
  const envelope = {
    id: plan.id,
    object: 'chat.completion.chunk',
    created: plan.created,
    model: plan.model,
    service_tier: 'default',
    system_fingerprint: plan.systemFingerprint,
  };
  const chunk = (index: number, delta: Delta, finishReason: string | null = null) => ({
    ...envelope,
    choices: [{ index, delta, logprobs: null, finish_reason: finishReason }],
    // With include_usage, OpenAI sends `usage: null` on every chunk but the last.
    ...(options.includeUsage && { usage: null }),
  });

  if (options.scenario === 'fake-empty-stream') {
    stream.done();
    return;
  }
  const deltasByChoice = plan.choices.map((choice) => ({ index: choice.index, deltas: choiceDeltas(choice) }));
  if (options.scenario === 'fake-cut-after-first-chunk' || options.scenario === 'fake-stream-error') {
    const [roleDelta, firstWord] = deltasByChoice[0].deltas;
    const isText = !('tool_calls' in roleDelta) && firstWord !== undefined;
    const firstChunk = chunk(0, isText ? { ...roleDelta, ...firstWord } : roleDelta); // the role and the first word
    if (options.scenario === 'fake-stream-error') {
      stream.data(firstChunk);
      stream.data({ error: streamErrorBody });
      stream.end();
    } else {
      cutConnectionAfter(exchange, `data: ${JSON.stringify(firstChunk)}\n\n`);
    }
    return;
  }

  const frames = [
    ...deltasByChoice.flatMap(({ index, deltas }) => deltas.map((delta) => chunk(index, delta))),
    ...plan.choices.map((choice) => chunk(choice.index, {}, choice.finishReason)),
    ...(options.includeUsage ? [{ ...envelope, choices: [], usage: plan.usage }] : []),
  ];
  if (options.scenario === 'fake-trickle') {
    void trickle(exchange, stream, frames);
    return;
  }
  for (const frame of frames) stream.data(frame);
  stream.done();
}

/** One frame per interval until the end, or until the client hangs up. */
async function trickle(exchange: Exchange, stream: ReturnType<typeof openEventStream>, frames: readonly object[]): Promise<void> {
  for (const frame of frames) {
    try {
      await delay(trickleIntervalMs, undefined, { signal: exchange.signal });
    } catch {
      return; // the client left: nothing more is generated
    }
    stream.data(frame);
  }
  stream.done();
}

function choiceDeltas(choice: PlannedChoice): Delta[] {
  if (choice.toolCalls.length > 0) return toolCallDeltas(choice);
  const role: Delta = { role: 'assistant', content: '', refusal: null };
  return [role, ...contentPieces(choice.content ?? '').map((piece) => ({ content: piece }))];
}

/** One whitespace word per piece, leading spaces kept, so the pieces join back to the exact content. */
export function contentPieces(content: string): string[] {
  return content.match(/\s*\S+|\s+/g) ?? [];
}

function toolCallDeltas(choice: PlannedChoice): Delta[] {
  const deltas: Delta[] = [];
  choice.toolCalls.forEach((call, index) => {
    const header = { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } };
    // OpenAI puts the role into the first tool call's header delta.
    deltas.push(index === 0 ? { role: 'assistant', content: null, tool_calls: [header], refusal: null } : { tool_calls: [header] });
    for (const fragment of argumentFragments(call.arguments)) {
      deltas.push({ tool_calls: [{ index, function: { arguments: fragment } }] });
    }
  });
  return deltas;
}

/** Token-like pieces: `{"`, `city`, `":"`, `x`, `"}`. */
function argumentFragments(argumentsJson: string): string[] {
  return argumentsJson.match(/[A-Za-z0-9_]+|\s+|[^A-Za-z0-9_\s]+/g) ?? [];
}
