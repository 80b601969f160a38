import type {
  Base64ImageSource,
  ContentBlockParam,
  ImageBlockParam,
  MessageCreateParamsBase,
  MessageParam,
  Tool as AnthropicTool,
  ToolChoice as AnthropicToolChoice,
  ToolResultBlockParam,
  ToolUseBlockParam,
} from '@anthropic-ai/sdk/resources/messages';
import { SluiceError } from '../spec/index.js';
import type { ChatMessage, ChatRequest, ContentPart, ResponseFormat, Tool, ToolCall } from '../spec/index.js';

/**
 * The Messages API body. SDK 1.14 no longer lists `temperature` / `top_p` in its types, but
 * the API still takes them and the SDK sends the body as given, so they are typed here.
 */
export type AnthropicRequestBody = Omit<MessageCreateParamsBase, 'stream'> & { temperature?: number; top_p?: number };

export interface AnthropicTranslation {
  body: AnthropicRequestBody;
  /** Set in JSON mode: the forced tool whose `input` is the answer's JSON content. */
  jsonToolName?: string;
}

export interface RequestTranslationOptions {
  defaultMaxTokens: number;
}

/** Anthropic has no JSON mode: a `response_format` becomes a tool the model is made to call. */
export const JSON_TOOL_NAME = 'json_response';

const ANTHROPIC_MAX_TEMPERATURE = 1;
const IMAGE_MEDIA_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;
const OBJECT_SCHEMA: AnthropicTool.InputSchema = { type: 'object' };

type Turn = { role: 'user' | 'assistant'; content: ContentBlockParam[] };

/** Pure: an OpenAI chat request as an Anthropic Messages request. Throws `invalid-request` with `param`. */
export function toAnthropicRequest(request: ChatRequest, options: RequestTranslationOptions): AnthropicTranslation {
  rejectUnsupported(request);
  const { system, messages } = toAnthropicMessages(request.messages);
  const jsonTool = jsonToolFor(request.response_format);
  const userTools = (request.tools ?? []).map(toAnthropicTool);
  if (jsonTool && userTools.some((tool) => tool.name === jsonTool.name)) {
    throw invalid(`the JSON answer tool name '${jsonTool.name}' clashes with a declared tool`, 'response_format');
  }
  const body: AnthropicRequestBody = {
    model: request.model,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? options.defaultMaxTokens,
    messages,
  };
  if (system) body.system = system;
  const tools = jsonTool ? [...userTools, jsonTool] : userTools;
  const toolChoice = toAnthropicToolChoice(request, jsonTool?.name);
  const historyToolNames = toolNamesIn(messages);
  if (tools.length > 0) {
    body.tools = tools;
  } else if (historyToolNames.length > 0) {
    // Anthropic refuses tool_use blocks in the history unless tools are declared; OpenAI does
    // not require that. Declare the names the history uses, and forbid calling them.
    body.tools = historyToolNames.map((name) => ({ name, input_schema: OBJECT_SCHEMA }));
    body.tool_choice = { type: 'none' };
  }
  if (toolChoice) body.tool_choice = toolChoice;
  if (request.stop != null) body.stop_sequences = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (request.temperature != null) {
    body.temperature = Math.min(ANTHROPIC_MAX_TEMPERATURE, Math.max(0, request.temperature));
  }
  if (request.top_p != null) body.top_p = request.top_p;
  if (request.user) body.metadata = { user_id: request.user };
  return { body, jsonToolName: jsonTool?.name };
}

function rejectUnsupported(request: ChatRequest): void {
  if (request.stream && (request.n ?? 1) > 1) throw invalid('n > 1 cannot be streamed by this backend', 'n');
  if (request.logprobs) throw invalid('logprobs are not supported by this backend', 'logprobs');
  if (request.top_logprobs) throw invalid('top_logprobs are not supported by this backend', 'top_logprobs');
}

function toAnthropicMessages(messages: ChatMessage[]): { system?: string; messages: MessageParam[] } {
  const systemTexts: string[] = [];
  const turns: Turn[] = [];
  messages.forEach((message, index) => {
    const at = `messages[${index}]`;
    switch (message.role) {
      case 'system':
      case 'developer': {
        const text = plainText(message.content, at);
        if (text) systemTexts.push(text);
        return;
      }
      case 'user':
        return appendTurn(turns, 'user', contentBlocks(message.content, at));
      case 'assistant':
        return appendTurn(turns, 'assistant', assistantBlocks(message, at));
      case 'tool':
        return appendTurn(turns, 'user', [toolResultBlock(message, at)]);
      default:
        throw invalid(`role '${message.role}' is not supported by this backend`, `${at}.role`);
    }
  });
  return { system: systemTexts.length > 0 ? systemTexts.join('\n\n') : undefined, messages: turns };
}

/** Anthropic requires user and assistant turns to alternate, so same-role neighbours merge. */
function appendTurn(turns: Turn[], role: Turn['role'], blocks: ContentBlockParam[]): void {
  if (blocks.length === 0) return;
  const last = turns.at(-1);
  if (last?.role !== role) {
    turns.push({ role, content: blocks });
    return;
  }
  const merged = [...last.content, ...blocks];
  // Within a user turn, tool_result blocks must precede any other content (API rule).
  last.content =
    role === 'user'
      ? [...merged.filter((block) => block.type === 'tool_result'), ...merged.filter((block) => block.type !== 'tool_result')]
      : merged;
}

function contentBlocks(content: ChatMessage['content'], at: string): ContentBlockParam[] {
  if (content == null) return [];
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  return content.flatMap((part, index) => partBlocks(part, `${at}.content[${index}]`));
}

function partBlocks(part: ContentPart, at: string): ContentBlockParam[] {
  switch (part.type) {
    case 'text':
      return part.text ? [{ type: 'text', text: part.text }] : [];
    case 'refusal':
      return part.refusal ? [{ type: 'text', text: part.refusal }] : [];
    case 'image_url':
      return [imageBlock(part.image_url.url, `${at}.image_url.url`)];
    default:
      throw invalid(`content part '${part.type}' is not supported by this backend`, `${at}.type`);
  }
}

function imageBlock(url: string, param: string): ImageBlockParam {
  const dataUrl = DATA_URL.exec(url);
  if (dataUrl) {
    const mediaType = dataUrl[1].toLowerCase() === 'image/jpg' ? 'image/jpeg' : dataUrl[1].toLowerCase();
    if (!IMAGE_MEDIA_TYPES.has(mediaType)) {
      throw invalid(`image type '${mediaType}' is not supported (jpeg, png, gif, webp)`, param);
    }
    const source: Base64ImageSource = {
      type: 'base64',
      media_type: mediaType as Base64ImageSource['media_type'],
      data: dataUrl[2],
    };
    return { type: 'image', source };
  }
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw invalid('image_url must be a base64 data URL or an http(s) URL', param);
}

function assistantBlocks(message: ChatMessage, at: string): ContentBlockParam[] {
  const toolUses = (message.tool_calls ?? []).map((call, index) => toolUseBlock(call, `${at}.tool_calls[${index}]`));
  return [...contentBlocks(message.content, at), ...toolUses];
}

function toolUseBlock(call: ToolCall, at: string): ToolUseBlockParam {
  return {
    type: 'tool_use',
    id: call.id,
    name: call.function.name,
    input: parseArguments(call.function.arguments, `${at}.function.arguments`),
  };
}

function parseArguments(text: string, param: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SluiceError('invalid-request', 'tool call arguments are not valid JSON', { param, cause: error });
  }
  if (!isPlainObject(parsed)) throw invalid('tool call arguments must be a JSON object', param);
  return parsed;
}

function toolResultBlock(message: ChatMessage, at: string): ToolResultBlockParam {
  if (!message.tool_call_id) throw invalid('a tool message needs tool_call_id', `${at}.tool_call_id`);
  const text = plainText(message.content, at);
  return { type: 'tool_result', tool_use_id: message.tool_call_id, ...(text ? { content: text } : {}) };
}

/** System and tool messages carry text only; their parts join with newlines. */
function plainText(content: ChatMessage['content'], at: string): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content
    .map((part, index) => {
      if (part.type === 'text') return part.text;
      throw invalid(`only text parts are allowed in this message`, `${at}.content[${index}].type`);
    })
    .join('\n');
}

function toAnthropicTool(tool: Tool): AnthropicTool {
  const { name, description, parameters } = tool.function;
  return { name, ...(description ? { description } : {}), input_schema: toInputSchema(parameters) };
}

function toInputSchema(schema: Record<string, unknown> | undefined): AnthropicTool.InputSchema {
  return { ...schema, type: 'object' };
}

function jsonToolFor(format: ResponseFormat | undefined): AnthropicTool | undefined {
  if (format?.type === 'json_object') {
    return { name: JSON_TOOL_NAME, description: 'Give the answer as a JSON object.', input_schema: OBJECT_SCHEMA };
  }
  if (format?.type !== 'json_schema') return undefined;
  const { name, description, schema } = format.json_schema;
  return {
    name: name || JSON_TOOL_NAME,
    description: description ?? 'Give the answer as JSON that matches this schema.',
    input_schema: schema ? toInputSchema(schema) : OBJECT_SCHEMA,
  };
}

function toAnthropicToolChoice(request: ChatRequest, jsonToolName: string | undefined): AnthropicToolChoice | undefined {
  const hasUserTools = (request.tools?.length ?? 0) > 0;
  const choice = request.tool_choice;
  const parallel = request.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  if (jsonToolName) {
    // With tools declared, the model must either call one of them or give the JSON answer.
    if (!hasUserTools || choice === 'none') return { type: 'tool', name: jsonToolName };
    if (typeof choice === 'object') return { type: 'tool', name: choice.function.name, ...parallel };
    return { type: 'any', ...parallel };
  }
  if (!hasUserTools) return undefined;
  if (choice === undefined) return request.parallel_tool_calls === false ? { type: 'auto', ...parallel } : undefined;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') return { type: 'auto', ...parallel };
  if (choice === 'required') return { type: 'any', ...parallel };
  return { type: 'tool', name: choice.function.name, ...parallel };
}

function toolNamesIn(messages: MessageParam[]): string[] {
  const names = new Set<string>();
  for (const message of messages) {
    if (!Array.isArray(message.content)) continue;
    for (const block of message.content) if (block.type === 'tool_use') names.add(block.name);
  }
  return [...names];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string, param: string): SluiceError {
  return new SluiceError('invalid-request', message, { param });
}
