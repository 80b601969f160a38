import { stat } from 'node:fs/promises';
import type {
  ChatHistoryItem,
  ChatModelFunctions,
  ChatWrapper,
  GbnfJsonSchema,
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaGrammar,
  LlamaModel,
} from 'node-llama-cpp';
import type { AdapterSettings } from '../spec/index.js';
import { backendFingerprint } from './backend-fingerprint.js';
import type { LlamaCppOptions } from './llama-cpp-options.js';
import { resolveModelChatWrapper } from './model-chat-wrapper.js';
import { acquireLlama, releaseLlama } from './shared-llama.js';

/** One place to generate: a context sequence that serves one request at a time. */
export interface GenerationSlot {
  readonly index: number;
  readonly sequence: LlamaContextSequence;
}

/** A loaded model and everything built from it once: slots, chat template, grammars. */
export interface LlamaRuntime {
  readonly chatWrapper: ChatWrapper;
  readonly slots: readonly GenerationSlot[];
  /** Tokens per sequence (prompt + answer). */
  readonly contextSize: number;
  /** `system_fingerprint` of every answer from this loaded model (backend-fingerprint.ts). */
  readonly fingerprint: string;
  /** Tokens of the prompt exactly as the chat template renders it for the model. */
  countPromptTokens(history: readonly ChatHistoryItem[], functions?: ChatModelFunctions): number;
  /** Any JSON object (response_format json_object). */
  jsonObjectGrammar(): Promise<LlamaGrammar>;
  /** JSON that matches the schema; compiled grammars are kept for repeated schemas. */
  schemaGrammar(schema: GbnfJsonSchema): Promise<LlamaGrammar>;
  /** Forgets the slot's conversation so the next request starts from a clean sequence. */
  resetSlot(slot: GenerationSlot): Promise<void>;
  dispose(): Promise<void>;
}

const GRAMMAR_CACHE_SIZE = 32;

/**
 * Loads the GGUF and creates one context per parallel slot.
 *
 * Why a pool of single-sequence contexts rather than one context with `parallel` sequences:
 * on the 2-vCPU machine, for two requests at once, one context × 2 sequences × 2 threads (the
 * library's batching) gave 24–28 tok/s in total with Qwen2.5-Coder-1.5B and ~65 with SmolLM2 —
 * no better than one request alone — and fell to 10–13 tok/s (Qwen) when another process took
 * a core, as the two threads wait on each other. Two contexts × 1 thread gave 30–39 tok/s
 * (Qwen) and ~200 (SmolLM2) in total, and degraded gracefully under the same load
 * (load-tests/bench-local-chat.ts measures it). The price: one request alone decodes ~10%
 * slower on one thread than on two. So each context gets `threads / parallel` threads, at
 * least one; `parallel: 1` gives a single request every thread.
 *
 * `threads` is a fixed number, not `{ ideal, min }`: letting node-llama-cpp's splitter move
 * threads between two contexts at every step collapsed throughput to 2–3 tok/s.
 */
export async function loadLlamaRuntime(options: LlamaCppOptions, log: AdapterSettings['log']): Promise<LlamaRuntime> {
  const file = await stat(options.modelPath).catch(() => {
    throw new Error(`model file not found: ${options.modelPath} (run make setup, or fix options.model)`);
  });
  const llama = await acquireLlama(log);
  let model: LlamaModel | undefined;
  const contexts: LlamaContext[] = [];
  try {
    model = await llama.loadModel({ modelPath: options.modelPath, gpuLayers: 0 });
    const threadsPerContext = Math.max(1, Math.floor(options.threads / options.parallel));
    for (let index = 0; index < options.parallel; index += 1) {
      contexts.push(
        await model.createContext({
          contextSize: options.contextSize,
          sequences: 1,
          threads: threadsPerContext,
          failedCreationRemedy: false,
        }),
      );
    }
    const fingerprint = backendFingerprint({
      modelPath: options.modelPath,
      fileBytes: file.size,
      fileModifiedMs: file.mtimeMs,
      contextSize: contexts[0].contextSize,
      llamaCppRelease: llama.llamaCppRelease.release,
    });
    return createRuntime(llama, model, contexts, fingerprint, log);
  } catch (error) {
    await Promise.all(contexts.map((context) => context.dispose()));
    await model?.dispose();
    await releaseLlama(log);
    throw error;
  }
}

function createRuntime(llama: Llama, model: LlamaModel, contexts: LlamaContext[], fingerprint: string, log: AdapterSettings['log']): LlamaRuntime {
  const chatWrapper = resolveModelChatWrapper(model);
  const slots = contexts.map((context, index) => ({ index, sequence: context.getSequence() }));
  const grammars = new Map<string, Promise<LlamaGrammar>>();
  let jsonObject: Promise<LlamaGrammar> | undefined;

  return {
    chatWrapper,
    slots,
    contextSize: contexts[0].contextSize,
    fingerprint,
    countPromptTokens(history, functions) {
      const state = chatWrapper.generateContextState({ chatHistory: history, availableFunctions: functions, documentFunctionParams: true });
      return state.contextText.tokenize(model.tokenizer).length;
    },
    jsonObjectGrammar() {
      jsonObject ??= llama.getGrammarFor('json');
      return jsonObject;
    },
    schemaGrammar(schema) {
      const key = JSON.stringify(schema);
      let grammar = grammars.get(key);
      if (grammar) {
        grammars.delete(key); // re-inserted below: the Map's order is the recency order
      } else {
        // The schema's type is only known at run time; the generic exists to type parsed output.
        grammar = llama.createGrammarForJsonSchema(schema as never);
        grammar.catch(() => grammars.delete(key));
      }
      grammars.set(key, grammar);
      if (grammars.size > GRAMMAR_CACHE_SIZE) grammars.delete(grammars.keys().next().value!);
      return grammar;
    },
    resetSlot(slot) {
      return slot.sequence.clearHistory();
    },
    async dispose() {
      await Promise.all(contexts.map((context) => context.dispose()));
      await model.dispose();
      await releaseLlama(log);
    },
  };
}
