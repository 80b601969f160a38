// POST /v1/chat/completions: validates like OpenAI, then answers deterministically.
// The answer is `You said: <last user text>`, shaped by tools, response_format, stop, max_tokens and n.
import { valueFromSchema } from './fake-openai-schema.js';
import { applyCommonScenario, streamScenario, streamErrorBody, type StreamScenario } from './fake-openai-scenarios.js';
import { answerChatWithFault } from './fake-vendor-faults.js';
import { streamCompletion } from './fake-openai-chat-stream.js';
import {
  cutConnectionAfter,
  FakeHttpError,
  invalidRequest,
  isRecord,
  missingParameter,
  newId,
  nowSeconds,
  openAIHeaders,
  sendJson,
  wordCount,
  type Exchange,
} from './fake-openai-wire.js';

type FinishReason = 'stop' | 'length' | 'tool_calls';

export interface PlannedToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface PlannedChoice {
  index: number;
  content: string | null;
  toolCalls: PlannedToolCall[];
  finishReason: FinishReason;
}

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; audio_tokens: number };
  completion_tokens_details: {
    reasoning_tokens: number;
    audio_tokens: number;
    accepted_prediction_tokens: number;
    rejected_prediction_tokens: number;
  };
}

/** Everything both the JSON answer and the stream are made from. */
export interface CompletionPlan {
  id: string;
  created: number;
  model: string;
  systemFingerprint: string;
  choices: PlannedChoice[];
  /** Absent for `fake-no-usage`. */
  usage: ChatUsage | undefined;
}

interface FunctionTool {
  name: string;
  parameters: unknown;
}

interface ChatRequest {
  model: string;
  messages: Record<string, unknown>[];
  n: number;
  isStream: boolean;
  includeUsage: boolean;
  maxTokens: number | undefined;
  stops: string[];
  tools: FunctionTool[];
  toolChoice: unknown;
  isParallelToolCalls: boolean;
  responseFormat: Record<string, unknown> | undefined;
}

export async function handleChat(exchange: Exchange, body: unknown, systemFingerprint: string): Promise<void> {
  if (!isRecord(body)) throw invalidRequest('Invalid body: expected a JSON object.');
  if (!(await applyCommonScenario(exchange, body.model))) return;
  if (await answerChatWithFault(exchange, body)) return;
  const request = parseChatRequest(body);
  const scenario = streamScenario(request.model);
  const plan = planCompletion(request, systemFingerprint, scenario);
  if (request.isStream) {
    streamCompletion(exchange, plan, { includeUsage: request.includeUsage && plan.usage !== undefined, scenario });
    return;
  }
  answerCompletion(exchange, plan, scenario);
}

function parseChatRequest(body: Record<string, unknown>): ChatRequest {
  if (typeof body.model !== 'string' || body.model === '') throw missingParameter('model');
  if (body.messages === undefined) throw missingParameter('messages');
  if (!Array.isArray(body.messages)) throw invalidRequest("Invalid type for 'messages': expected an array of objects.", 'messages', 'invalid_type');
  if (body.messages.length === 0) {
    throw invalidRequest(
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      'messages',
      'empty_array',
    );
  }
  body.messages.forEach((message, index) => {
    if (!isRecord(message) || typeof message.role !== 'string') {
      throw invalidRequest(`Missing required parameter: 'messages[${index}].role'.`, `messages[${index}].role`, 'missing_required_parameter');
    }
  });
  const n = optionalInteger(body, 'n', 1, 128) ?? 1;
  const maxTokens = optionalInteger(body, 'max_completion_tokens', 1) ?? optionalInteger(body, 'max_tokens', 1);
  const isStream = body.stream === true;
  if (isRecord(body.stream_options) && !isStream) {
    throw invalidRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options');
  }
  const tools = parseTools(body.tools);
  checkToolChoice(body.tool_choice, tools);
  return {
    model: body.model,
    messages: body.messages as Record<string, unknown>[],
    n,
    isStream,
    includeUsage: isRecord(body.stream_options) && body.stream_options.include_usage === true,
    maxTokens,
    stops: (typeof body.stop === 'string' ? [body.stop] : Array.isArray(body.stop) ? body.stop : []).filter(
      (stop): stop is string => typeof stop === 'string' && stop !== '',
    ),
    tools,
    toolChoice: body.tool_choice,
    isParallelToolCalls: body.parallel_tool_calls !== false,
    responseFormat: isRecord(body.response_format) ? body.response_format : undefined,
  };
}

function optionalInteger(body: Record<string, unknown>, param: string, minimum: number, maximum = Infinity): number | undefined {
  const value = body[param];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw invalidRequest(`Invalid type for '${param}': expected an integer, but got ${typeof value} instead.`, param, 'invalid_type');
  }
  if (value < minimum) {
    throw invalidRequest(
      `Invalid '${param}': integer below minimum value. Expected a value >= ${minimum}, but got ${value} instead.`,
      param,
      'integer_below_min_value',
    );
  }
  if (value > maximum) {
    throw invalidRequest(
      `Invalid '${param}': integer above maximum value. Expected a value <= ${maximum}, but got ${value} instead.`,
      param,
      'integer_above_max_value',
    );
  }
  return value;
}

function parseTools(tools: unknown): FunctionTool[] {
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) throw invalidRequest("Invalid type for 'tools': expected an array.", 'tools', 'invalid_type');
  return tools.map((tool, index) => {
    if (!isRecord(tool) || tool.type !== 'function' || !isRecord(tool.function) || typeof tool.function.name !== 'string') {
      throw invalidRequest(`Missing required parameter: 'tools[${index}].function.name'.`, `tools[${index}].function.name`, 'missing_required_parameter');
    }
    return { name: tool.function.name, parameters: tool.function.parameters ?? { type: 'object', properties: {} } };
  });
}

function checkToolChoice(toolChoice: unknown, tools: FunctionTool[]): void {
  if (!isRecord(toolChoice)) return;
  const name = isRecord(toolChoice.function) ? toolChoice.function.name : undefined;
  if (!tools.some((tool) => tool.name === name)) {
    throw invalidRequest(`Invalid value for 'tool_choice': function '${String(name)}' is not among the tools.`, 'tool_choice', 'invalid_value');
  }
}

export function messageText(message: Record<string, unknown>): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((part): part is { type: 'text'; text: string } => isRecord(part) && part.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text)
    .join(' ');
}

function lastUserText(messages: Record<string, unknown>[]): string {
  const lastUser = [...messages].reverse().find((message) => message.role === 'user');
  return lastUser ? messageText(lastUser) : '';
}

function planCompletion(request: ChatRequest, systemFingerprint: string, scenario: StreamScenario | undefined): CompletionPlan {
  const calledTools = chooseTools(request);
  const choices = Array.from({ length: request.n }, (_, index): PlannedChoice => {
    if (calledTools.length > 0) {
      const toolCalls = calledTools.map((tool) => ({
        id: newId('call_'),
        name: tool.name,
        arguments: JSON.stringify(valueFromSchema(tool.parameters)),
      }));
      return { index, content: null, toolCalls, finishReason: 'tool_calls' };
    }
    const text = scenario === 'fake-empty-stream' ? '' : answerText(request);
    return { index, toolCalls: [], ...limitAnswer(text, request.stops, request.maxTokens) };
  });
  const promptTokens = request.messages.reduce((sum, message) => sum + wordCount(messageText(message)), 0);
  const completionTokens = choices.reduce((sum, choice) => sum + choiceWords(choice), 0);
  return {
    id: newId('chatcmpl-'),
    created: nowSeconds(),
    model: request.model,
    systemFingerprint,
    choices,
    usage: scenario === 'fake-no-usage' ? undefined : chatUsage(promptTokens, completionTokens),
  };
}

function chooseTools(request: ChatRequest): FunctionTool[] {
  const { tools, toolChoice } = request;
  if (tools.length === 0 || toolChoice === 'none') return [];
  if (isRecord(toolChoice) && isRecord(toolChoice.function)) {
    return tools.filter((tool) => tool.name === (toolChoice.function as Record<string, unknown>).name);
  }
  // After a tool result the fake answers in text, so an agent loop driven by it ends.
  const isAnsweringUser = request.messages.at(-1)?.role !== 'tool';
  const text = lastUserText(request.messages);
  const mentioned = isAnsweringUser ? tools.filter((tool) => mentions(text, tool.name)) : [];
  const called = mentioned.length > 0 ? mentioned : toolChoice === 'required' ? tools.slice(0, 1) : [];
  return request.isParallelToolCalls ? called : called.slice(0, 1);
}

function mentions(text: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9_])${escaped}($|[^A-Za-z0-9_])`).test(text);
}

function answerText(request: ChatRequest): string {
  const echo = `You said: ${lastUserText(request.messages)}`;
  const format = request.responseFormat;
  if (format?.type === 'json_object') return JSON.stringify({ answer: echo });
  if (format?.type === 'json_schema') {
    const schema = isRecord(format.json_schema) ? format.json_schema.schema : undefined;
    return JSON.stringify(valueFromSchema(schema ?? { type: 'object', properties: {} }));
  }
  return echo;
}

/** Cuts at the first stop string, then at `maxTokens` whitespace words, keeping the original spacing. */
function limitAnswer(text: string, stops: string[], maxTokens: number | undefined): { content: string; finishReason: FinishReason } {
  const stopAt = Math.min(...stops.map((stop) => text.indexOf(stop)).filter((position) => position >= 0));
  const content = Number.isFinite(stopAt) ? text.slice(0, stopAt) : text;
  const words = [...content.matchAll(/\S+/g)];
  if (maxTokens === undefined || words.length <= maxTokens) return { content, finishReason: 'stop' };
  const lastWord = words[maxTokens - 1];
  return { content: content.slice(0, lastWord.index + lastWord[0].length), finishReason: 'length' };
}

function choiceWords(choice: PlannedChoice): number {
  if (choice.content !== null) return wordCount(choice.content);
  return choice.toolCalls.reduce((sum, call) => sum + wordCount(`${call.name} ${call.arguments}`), 0);
}

function chatUsage(promptTokens: number, completionTokens: number): ChatUsage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function answerCompletion(exchange: Exchange, plan: CompletionPlan, scenario: StreamScenario | undefined): void {
  if (scenario === 'fake-stream-error') throw new FakeHttpError(500, { ...streamErrorBody });
  const completion = {
    id: plan.id,
    object: 'chat.completion',
    created: plan.created,
    model: plan.model,
    choices: plan.choices.map((choice) => ({
      index: choice.index,
      message: {
        role: 'assistant',
        content: choice.content,
        refusal: null,
        annotations: [],
        ...(choice.toolCalls.length > 0 && {
          tool_calls: choice.toolCalls.map((call) => ({
            id: call.id,
            type: 'function',
            function: { name: call.name, arguments: call.arguments },
          })),
        }),
      },
      logprobs: null,
      finish_reason: choice.finishReason,
    })),
    ...(plan.usage && { usage: plan.usage }),
    service_tier: 'default',
    system_fingerprint: plan.systemFingerprint,
  };
  if (scenario !== 'fake-cut-after-first-chunk') {
    sendJson(exchange, 200, completion);
    return;
  }
  const text = JSON.stringify(completion);
  exchange.response.writeHead(200, { ...openAIHeaders(exchange), 'content-type': 'application/json' });
  cutConnectionAfter(exchange, text.slice(0, Math.floor(text.length / 2)));
}
