import type { ChatChoice, ChatCompletion, ChatCompletionChunk, ToolCall, Usage } from '../../adapters/spec/index.js';

/**
 * The completion a stream's chunks add up to — content and tool-call fragments joined per
 * choice, the finish reason, the usage — so a buffered stream can be scored like a JSON answer.
 */
export function assembleCompletion(chunks: readonly ChatCompletionChunk[]): ChatCompletion {
  const choices = new Map<number, { content: string; hasContent: boolean; calls: Map<number, ToolCall>; finish: ChatChoice['finish_reason'] }>();
  let usage: Usage | undefined;
  for (const chunk of chunks) {
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      const entry = choices.get(choice.index) ?? { content: '', hasContent: false, calls: new Map(), finish: 'stop' };
      choices.set(choice.index, entry);
      if (typeof choice.delta.content === 'string') {
        entry.content += choice.delta.content;
        entry.hasContent = true;
      }
      for (const delta of choice.delta.tool_calls ?? []) {
        const call = entry.calls.get(delta.index) ?? { id: '', type: 'function' as const, function: { name: '', arguments: '' } };
        entry.calls.set(delta.index, {
          id: delta.id ?? call.id,
          type: 'function',
          function: { name: call.function.name + (delta.function?.name ?? ''), arguments: call.function.arguments + (delta.function?.arguments ?? '') },
        });
      }
      if (choice.finish_reason) entry.finish = choice.finish_reason;
    }
  }
  const first = chunks[0];
  return {
    id: first?.id ?? '',
    object: 'chat.completion',
    created: first?.created ?? 0,
    model: first?.model ?? '',
    choices: [...choices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, entry]) => ({
        index,
        message: {
          role: 'assistant',
          content: entry.hasContent || entry.calls.size === 0 ? entry.content : null,
          refusal: null,
          ...(entry.calls.size > 0 && { tool_calls: [...entry.calls.values()] }),
        },
        finish_reason: entry.finish,
        logprobs: null,
      })),
    usage,
    ...(first?.system_fingerprint != null && { system_fingerprint: first.system_fingerprint }),
    ...(first?.service_tier != null && { service_tier: first.service_tier }),
  };
}

/** What the model said (text, or tool calls as JSON), for the log and for counting tokens. */
export function outputTextOf(completion: ChatCompletion): string {
  return completion.choices
    .map((choice) => choice.message.content ?? (choice.message.tool_calls ? JSON.stringify(choice.message.tool_calls) : ''))
    .join('\n');
}
