import { LlamaChat } from 'node-llama-cpp';
import type { ChatRequest, FinishReason, ToolCall } from '../spec/index.js';
import type { ChatPlan } from './chat-plan.js';
import { finishReasonOf, samplingOf } from './generation-settings.js';
import type { GenerationSlot, LlamaRuntime } from './llama-runtime.js';
import { parseTextToolCalls, toToolCall } from './tool-calls.js';

export interface GeneratedChoice {
  /** The answer's text, without any stop sequence; empty when the answer is tool calls. */
  text: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  /** Tokens the model sampled for this choice, counted by the sequence itself. */
  completionTokens: number;
}

/**
 * Generates one choice on a slot. `onText` receives the answer as it is sampled (node-llama-cpp
 * holds back text that may be the start of a stop sequence, so what it sends is exactly the
 * final text). Aborting `signal` stops generation and rejects with the signal's reason.
 */
export async function generateChoice(
  runtime: LlamaRuntime,
  slot: GenerationSlot,
  request: ChatRequest,
  plan: ChatPlan,
  choiceIndex: number,
  signal: AbortSignal,
  onText?: (text: string) => void,
): Promise<GeneratedChoice> {
  const chat = new LlamaChat({ contextSequence: slot.sequence, chatWrapper: runtime.chatWrapper, autoDisposeSequence: false });
  const sampledBefore = slot.sequence.tokenMeter.usedOutputTokens;
  const sampling = samplingOf(request, choiceIndex);
  try {
    const common = {
      signal,
      maxTokens: plan.maxTokens,
      temperature: sampling.temperature,
      topP: sampling.topP,
      seed: sampling.seed,
      repeatPenalty: sampling.repeatPenalty,
      customStopTriggers: plan.stop.length > 0 ? plan.stop : undefined,
      onTextChunk: onText,
    };
    const response = plan.functions
      ? await chat.generateResponse(plan.history, { ...common, functions: plan.functions, documentFunctionParams: true })
      : await chat.generateResponse(plan.history, { ...common, grammar: plan.grammar });
    const completionTokens = slot.sequence.tokenMeter.usedOutputTokens - sampledBefore;
    const finishReason = finishReasonOf(response.metadata.stopReason);
    const detected = (response.functionCalls ?? []).map((call) => toToolCall(call.functionName, call.params));
    if (detected.length > 0) return { text: response.response, toolCalls: detected, finishReason: 'tool_calls', completionTokens };
    const written = plan.toolMode === 'none' || finishReason === 'length' ? undefined : parseTextToolCalls(response.response, plan.toolNames);
    if (written) return { text: '', toolCalls: written, finishReason: 'tool_calls', completionTokens };
    return { text: response.response, toolCalls: [], finishReason, completionTokens };
  } finally {
    chat.dispose({ disposeSequence: false });
  }
}
