import { randomBytes } from 'node:crypto';
import type { ChatModelFunctions, GbnfJsonSchema } from 'node-llama-cpp';
import type { ChatRequest, Tool, ToolCall } from '../spec/index.js';
import { toGrammarSchema } from './json-schema-to-grammar-schema.js';

/**
 * How a request's tools are served:
 * - `none`: no tools, or `tool_choice: 'none'` — plain text.
 * - `auto`: the model may call one; the chat template documents the tools and node-llama-cpp
 *   detects the template's call syntax.
 * - `forced`: `required` or a named function — a grammar allows nothing but a call.
 */
export type ToolMode = 'none' | 'auto' | 'forced';

export function toolModeOf(request: ChatRequest): ToolMode {
  if (!request.tools?.length || request.tool_choice === 'none') return 'none';
  return request.tool_choice === undefined || request.tool_choice === 'auto' ? 'auto' : 'forced';
}

/** Tools as node-llama-cpp functions; their parameter schemas must fit the grammar. */
export function toFunctions(tools: readonly Tool[]): ChatModelFunctions {
  return Object.fromEntries(
    tools.map((tool, index) => [
      tool.function.name,
      {
        description: tool.function.description,
        params: tool.function.parameters ? toGrammarSchema(tool.function.parameters, `tools[${index}].function.parameters`) : undefined,
      },
    ]),
  );
}

const NO_ARGUMENTS = { type: 'object', properties: {} } as const;

/**
 * The JSON a forced call must be: `{"name": <a tool>, "arguments": <its parameters>}`, the
 * shape most tool-trained templates (Qwen, Hermes, Llama 3) use themselves.
 */
export function forcedCallSchema(request: ChatRequest, functions: ChatModelFunctions): GbnfJsonSchema {
  const choice = request.tool_choice;
  const names = typeof choice === 'object' ? [choice.function.name] : Object.keys(functions);
  const branches = names.map((name) => ({
    type: 'object',
    properties: { name: { const: name }, arguments: functions[name]?.params ?? NO_ARGUMENTS },
  }));
  return (branches.length === 1 ? branches[0] : { oneOf: branches }) as GbnfJsonSchema;
}

/** A call node-llama-cpp detected, as OpenAI writes it. */
export function toToolCall(name: string, params: unknown): ToolCall {
  return {
    id: `call_${randomBytes(12).toString('hex')}`,
    type: 'function',
    function: { name, arguments: JSON.stringify(params ?? {}) },
  };
}

/**
 * Calls written as bare JSON text: the output of a forced call, and what some models write
 * in `auto` mode instead of their template's syntax (Qwen2.5-Coder answers
 * `{"name": "get_weather", "arguments": {…}}` without the `<tool_call>` tags its template
 * asks for). Accepts one call or an array of calls, optionally in `<tool_call>` tags or a
 * code fence; anything else, or a name that is not one of the tools, is not a call.
 */
export function parseTextToolCalls(text: string, toolNames: ReadonlySet<string>): ToolCall[] | undefined {
  const unwrapped = text
    .trim()
    .replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, '$1')
    .replace(/^<tool_call>\s*([\s\S]*?)\s*<\/tool_call>$/, '$1');
  if (!unwrapped.startsWith('{') && !unwrapped.startsWith('[')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(unwrapped);
  } catch {
    return undefined; // not JSON: an ordinary answer that happens to start with a brace
  }
  const candidates = Array.isArray(parsed) ? parsed : [parsed];
  const calls: ToolCall[] = [];
  for (const candidate of candidates) {
    if (typeof candidate !== 'object' || candidate === null) return undefined;
    const { name, arguments: args } = candidate as { name?: unknown; arguments?: unknown };
    if (typeof name !== 'string' || !toolNames.has(name)) return undefined;
    calls.push(toToolCall(name, typeof args === 'string' ? safeParse(args) : args));
  }
  return calls.length > 0 ? calls : undefined;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
