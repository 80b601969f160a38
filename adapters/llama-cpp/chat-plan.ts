import type { ChatHistoryItem, ChatModelFunctions, LlamaGrammar } from 'node-llama-cpp';
import type { ChatRequest } from '../spec/index.js';
import { SluiceError } from '../spec/index.js';
import { choiceCountOf, maxTokensFor, stopTriggersOf } from './generation-settings.js';
import { toGrammarSchema } from './json-schema-to-grammar-schema.js';
import type { LlamaRuntime } from './llama-runtime.js';
import { toLlamaHistory } from './openai-to-llama-history.js';
import { forcedCallSchema, toFunctions, toolModeOf, type ToolMode } from './tool-calls.js';

/** Everything a request needs before it takes a slot: it fails here, not mid-generation. */
export interface ChatPlan {
  history: ChatHistoryItem[];
  /** `auto` tools: node-llama-cpp documents them and detects calls. */
  functions?: ChatModelFunctions;
  /** JSON output or a forced call. */
  grammar?: LlamaGrammar;
  toolMode: ToolMode;
  toolNames: ReadonlySet<string>;
  promptTokens: number;
  maxTokens: number;
  stop: string[];
  choices: number;
}

export async function planChat(request: ChatRequest, runtime: LlamaRuntime, defaultMaxTokens: number): Promise<ChatPlan> {
  const choices = choiceCountOf(request);
  const toolMode = toolModeOf(request);
  const functions = toolMode === 'none' ? undefined : toFunctions(request.tools ?? []);
  let history = toLlamaHistory(request.messages);
  let grammar: LlamaGrammar | undefined;
  if (toolMode === 'forced') {
    // The call is forced by a grammar, and node-llama-cpp takes a grammar or functions, not
    // both: the tools are documented in the system message the way the template does it.
    history = [...runtime.chatWrapper.addAvailableFunctionsSystemMessageToHistory(history, functions, { documentParams: true })];
    grammar = await compile(runtime, forcedCallSchema(request, functions!), 'tools');
  } else {
    grammar = await responseFormatGrammar(request, runtime);
    if (grammar && toolMode === 'auto') {
      throw new SluiceError('invalid-request', "the local model cannot combine 'tools' with a JSON response_format; use tool_choice 'required' or drop one", {
        param: 'response_format',
      });
    }
  }
  const promptTokens = runtime.countPromptTokens(history, toolMode === 'auto' ? functions : undefined);
  return {
    history,
    functions: toolMode === 'auto' ? functions : undefined,
    grammar,
    toolMode,
    toolNames: new Set(Object.keys(functions ?? {})),
    promptTokens,
    maxTokens: maxTokensFor(request, promptTokens, runtime.contextSize, defaultMaxTokens),
    stop: stopTriggersOf(request),
    choices,
  };
}

async function responseFormatGrammar(request: ChatRequest, runtime: LlamaRuntime): Promise<LlamaGrammar | undefined> {
  const format = request.response_format;
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object' || !format.json_schema.schema) return runtime.jsonObjectGrammar();
  return compile(runtime, toGrammarSchema(format.json_schema.schema, 'response_format'), 'response_format');
}

async function compile(runtime: LlamaRuntime, schema: Parameters<LlamaRuntime['schemaGrammar']>[0], param: string): Promise<LlamaGrammar> {
  try {
    return await runtime.schemaGrammar(schema);
  } catch (error) {
    throw new SluiceError('invalid-request', `the local model cannot build a grammar for this schema: ${(error as Error).message}`, { param, cause: error });
  }
}
