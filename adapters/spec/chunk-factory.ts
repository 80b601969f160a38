import type { ChatCompletionChunk, ChunkChoice, FinishReason, ToolCall, Usage } from './chat.js';

export interface AnswerIdentity {
  id: string;
  /** Unix seconds. */
  created: number;
  /** The model id the request named. */
  model: string;
  /** The loaded model's `system_fingerprint`, the same for all its answers (a replayed answer has the one it was given, if any). */
  fingerprint?: string;
}

/** Builds the chunks of one streamed answer, all sharing its id, creation time and model. */
export class ChunkFactory {
  constructor(private readonly identity: AnswerIdentity) {}

  role(index: number): ChatCompletionChunk {
    return this.chunk([{ index, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null }]);
  }

  text(index: number, content: string): ChatCompletionChunk {
    return this.chunk([{ index, delta: { content }, finish_reason: null, logprobs: null }]);
  }

  /** Tool calls arrive whole (they are parsed after generation), one delta per call. */
  toolCalls(index: number, calls: readonly ToolCall[]): ChatCompletionChunk {
    const deltas = calls.map((call, position) => ({ index: position, id: call.id, type: call.type, function: { ...call.function } }));
    return this.chunk([{ index, delta: { tool_calls: deltas }, finish_reason: null, logprobs: null }]);
  }

  finish(index: number, reason: FinishReason): ChatCompletionChunk {
    return this.chunk([{ index, delta: {}, finish_reason: reason, logprobs: null }]);
  }

  /** The last chunk, as OpenAI sends it with `include_usage`: no choices, only usage. */
  usage(usage: Usage): ChatCompletionChunk {
    return { ...this.chunk([]), usage };
  }

  private chunk(choices: ChunkChoice[]): ChatCompletionChunk {
    return { id: this.identity.id, object: 'chat.completion.chunk', created: this.identity.created, model: this.identity.model, choices, system_fingerprint: this.identity.fingerprint };
  }
}
