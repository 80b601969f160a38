import type {
  ContentBlock,
  Message,
  RawContentBlockDelta,
  RawMessageStreamEvent,
  StopReason,
} from '@anthropic-ai/sdk/resources/messages';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChunkChoice,
  FinishReason,
  ToolCall,
  Usage,
} from '../spec/index.js';
import { fromErrorBody, type AnthropicErrorBody } from './map-anthropic-error.js';

export interface ResponseTranslationOptions {
  /** The forced JSON-mode tool (see openai-to-anthropic): its input becomes the content. */
  jsonToolName?: string;
  createdSeconds: number;
  /** Names the backend in errors raised from `error` events. */
  backendId?: string;
}

/** What the SDK yields, plus the two events it filters out itself (kept so raw streams translate too). */
export type AnthropicStreamEvent =
  | RawMessageStreamEvent
  | { type: 'ping' }
  | { type: 'error'; error: AnthropicErrorBody };

interface TokenCounts {
  input_tokens: number | null;
  output_tokens: number;
  cache_read_input_tokens: number | null;
  cache_creation_input_tokens: number | null;
}

/** Pure: one Anthropic Message as an OpenAI chat completion with one choice. */
export function toChatCompletion(message: Message, options: ResponseTranslationOptions): ChatCompletion {
  const texts: string[] = [];
  const toolCalls: ToolCall[] = [];
  let jsonContent: string | undefined;
  for (const block of message.content) {
    if (block.type === 'text') texts.push(block.text);
    if (block.type !== 'tool_use') continue;
    if (block.name === options.jsonToolName) jsonContent = JSON.stringify(block.input ?? {});
    else toolCalls.push(toToolCall(block));
  }
  const hasToolCalls = toolCalls.length > 0;
  return {
    id: message.id,
    object: 'chat.completion',
    created: options.createdSeconds,
    model: message.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          // In JSON mode the content must parse, so any prose beside the answer tool is dropped.
          content: jsonContent ?? (texts.length > 0 ? texts.join('') : null),
          refusal: null,
          ...(hasToolCalls ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: toFinishReason(message.stop_reason, hasToolCalls),
        logprobs: null,
      },
    ],
    usage: toUsage(message.usage),
  };
}

/** Anthropic counts cached prompt tokens apart from `input_tokens`; OpenAI counts them inside. */
export function toUsage(counts: TokenCounts): Usage {
  const cacheRead = counts.cache_read_input_tokens ?? 0;
  const promptTokens = (counts.input_tokens ?? 0) + cacheRead + (counts.cache_creation_input_tokens ?? 0);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: counts.output_tokens,
    total_tokens: promptTokens + counts.output_tokens,
    ...(counts.cache_read_input_tokens == null ? {} : { prompt_tokens_details: { cached_tokens: cacheRead } }),
  };
}

/** A `tool_use` stop that only carried the JSON answer is a normal stop for the caller. */
export function toFinishReason(stopReason: StopReason | null, hasToolCalls: boolean): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return hasToolCalls ? 'tool_calls' : 'stop';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

function toToolCall(block: Extract<ContentBlock, { type: 'tool_use' }>): ToolCall {
  return { id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } };
}

/**
 * Anthropic stream events in, OpenAI chunks out, one event at a time. Tool calls are numbered
 * from 0 in the order they start (Anthropic's block index counts text blocks too). The answer
 * ends with a chunk carrying `finish_reason`, then one with `choices: []` and `usage`.
 */
export class AnthropicStreamTranslator {
  private id = '';
  private model = '';
  private stopReason: StopReason | null = null;
  private counts: TokenCounts = {
    input_tokens: null,
    output_tokens: 0,
    cache_read_input_tokens: null,
    cache_creation_input_tokens: null,
  };
  private readonly toolIndexByBlock = new Map<number, number>();
  private readonly jsonBlocks = new Set<number>();
  private completed = false;

  constructor(private readonly options: ResponseTranslationOptions) {}

  /** True once `message_stop` arrived: a stream that ends before it was cut. */
  get isComplete(): boolean {
    return this.completed;
  }

  translate(event: AnthropicStreamEvent): ChatCompletionChunk[] {
    switch (event.type) {
      case 'message_start':
        this.id = event.message.id;
        this.model = event.message.model;
        this.counts = { ...this.counts, ...definedCounts(event.message.usage) };
        return [this.chunk({ role: 'assistant', content: '' })];
      case 'content_block_start':
        return this.startBlock(event.index, event.content_block);
      case 'content_block_delta':
        return this.blockDelta(event.index, event.delta);
      case 'message_delta':
        this.stopReason = event.delta.stop_reason ?? this.stopReason;
        this.counts = { ...this.counts, ...definedCounts(event.usage) };
        return [];
      case 'message_stop':
        this.completed = true;
        return this.finish();
      case 'error':
        throw fromErrorBody(event.error, this.options.backendId ?? 'anthropic');
      default:
        return []; // ping, content_block_stop
    }
  }

  private startBlock(index: number, block: ContentBlock): ChatCompletionChunk[] {
    if (block.type === 'text') return block.text ? [this.chunk({ content: block.text })] : [];
    if (block.type !== 'tool_use') return []; // thinking and server-tool blocks have no OpenAI form
    if (block.name === this.options.jsonToolName) {
      this.jsonBlocks.add(index);
      return [];
    }
    const toolIndex = this.toolIndexByBlock.size;
    this.toolIndexByBlock.set(index, toolIndex);
    const start = { index: toolIndex, id: block.id, type: 'function' as const, function: { name: block.name, arguments: '' } };
    return [this.chunk({ tool_calls: [start] })];
  }

  private blockDelta(index: number, delta: RawContentBlockDelta): ChatCompletionChunk[] {
    if (delta.type === 'text_delta') return delta.text ? [this.chunk({ content: delta.text })] : [];
    if (delta.type !== 'input_json_delta' || !delta.partial_json) return [];
    if (this.jsonBlocks.has(index)) return [this.chunk({ content: delta.partial_json })];
    const toolIndex = this.toolIndexByBlock.get(index);
    if (toolIndex === undefined) return [];
    return [this.chunk({ tool_calls: [{ index: toolIndex, function: { arguments: delta.partial_json } }] })];
  }

  private finish(): ChatCompletionChunk[] {
    const finishReason = toFinishReason(this.stopReason, this.toolIndexByBlock.size > 0);
    return [this.chunk({}, finishReason), { ...this.envelope(), choices: [], usage: toUsage(this.counts) }];
  }

  private chunk(delta: ChunkChoice['delta'], finishReason: FinishReason | null = null): ChatCompletionChunk {
    return { ...this.envelope(), choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }] };
  }

  private envelope(): Omit<ChatCompletionChunk, 'choices'> {
    return { id: this.id, object: 'chat.completion.chunk', created: this.options.createdSeconds, model: this.model };
  }
}

const COUNT_KEYS = ['input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'] as const;

/** Usage objects in events leave unknown counts null or absent; only the known ones update. */
function definedCounts(usage: Partial<Record<keyof TokenCounts, number | null>>): Partial<TokenCounts> {
  const known: Partial<TokenCounts> = {};
  for (const key of COUNT_KEYS) {
    const value = usage[key];
    if (typeof value === 'number') known[key] = value;
  }
  return known;
}
