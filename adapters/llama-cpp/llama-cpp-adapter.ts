import type {
  AdapterFactory,
  CallOptions,
  Capability,
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
} from '../spec/index.js';
import { SluiceError } from '../spec/index.js';
import { openCallScope, type CallScope } from './call-scope.js';
import { planChat, type ChatPlan } from './chat-plan.js';
import { ChunkChannel } from './chunk-channel.js';
import { parseLlamaCppOptions } from './llama-cpp-options.js';
import { loadLlamaRuntime, type GenerationSlot, type LlamaRuntime } from './llama-runtime.js';
import { ChunkFactory, type AnswerIdentity } from '../spec/index.js';
import { newCompletionId, toChatCompletion, usageOf } from './llama-to-openai.js';
import { generateChoice, type GeneratedChoice } from './local-generation.js';
import { SlotPool } from './slot-pool.js';

const CAPABILITIES: readonly Capability[] = ['chat', 'stream', 'json', 'tools'];

interface Loaded {
  runtime: LlamaRuntime;
  pool: SlotPool<GenerationSlot>;
}

/**
 * A GGUF chat model run in-process by llama.cpp (node-llama-cpp).
 *
 * The model loads in the background from creation; `ready()` settles with it and calls made
 * before wait for it. `parallel` requests generate at once, each on its own context sequence;
 * up to `queue_limit` more wait in line (FIFO), none longer than `max_wait_ms`, and the rest are
 * answered `rate-limited` with a retry-after (slot-pool.ts).
 * `n > 1` generates the choices one after another on the same slot.
 */
export const createLlamaCppAdapter: AdapterFactory = (settings) => {
  const options = parseLlamaCppOptions(settings.id, settings.options, settings.paths.modelsDir);
  const log = settings.log;
  const closing = new AbortController();
  const inFlight = new Set<Promise<unknown>>();

  let loadedPool: SlotPool<GenerationSlot> | undefined;
  const startedMs = performance.now();
  log?.('info', 'loading model…', { model: options.modelPath, parallel: options.parallel, contextSize: options.contextSize, threads: options.threads });
  const loading: Promise<Loaded> = loadLlamaRuntime(options, log).then(
    (runtime) => {
      log?.('info', `loaded in ${Math.round(performance.now() - startedMs)} ms`, { model: options.modelPath });
      loadedPool = new SlotPool(runtime.slots, { queueLimit: options.queueLimit, maxWaitMs: options.maxWaitMs });
      return { runtime, pool: loadedPool };
    },
    (error: unknown) => {
      log?.('error', 'model failed to load', { model: options.modelPath, error: (error as Error)?.message });
      throw new SluiceError('upstream-unavailable', `${settings.id}: the local model failed to load: ${(error as Error)?.message}`, { cause: error });
    },
  );
  // A failed load is reported through ready() and every call, never as an unhandled rejection.
  loading.catch(() => undefined);

  const untilLoaded = (signal: AbortSignal): Promise<Loaded> =>
    new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      loading.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });

  /** Runs `work` on a slot, and cleans and returns the slot whatever happened. */
  const withSlot = async <T>(scope: CallScope, work: (runtime: LlamaRuntime, slot: GenerationSlot) => Promise<T>): Promise<T> => {
    const { runtime, pool } = await untilLoaded(scope.signal);
    const slot = await pool.acquire(scope.signal);
    const running = (async () => {
      try {
        return await work(runtime, slot);
      } finally {
        await runtime.resetSlot(slot).catch((error: unknown) => log?.('error', 'could not clear a sequence', { slot: slot.index, error: (error as Error)?.message }));
        pool.release(slot);
      }
    })();
    inFlight.add(running);
    try {
      return await running;
    } finally {
      inFlight.delete(running);
    }
  };

  const prepare = async (request: ChatRequest, scope: CallScope): Promise<{ plan: ChatPlan; identity: AnswerIdentity }> => {
    const { runtime } = await untilLoaded(scope.signal);
    const plan = await planChat(request, runtime, options.defaultMaxTokens);
    return { plan, identity: { id: newCompletionId(), created: Math.floor(Date.now() / 1000), model: request.model, fingerprint: runtime.fingerprint } };
  };

  return {
    // Until the model is loaded there is no line to estimate: expectedWaitMs is left out.
    load: () => (loadedPool ? { active: loadedPool.busy, queued: loadedPool.waiting, expectedWaitMs: loadedPool.expectedWaitMs() } : { active: 0, queued: 0 }),
    id: settings.id,
    location: 'local',
    capabilities: new Set(CAPABILITIES),

    async ready() {
      await loading;
    },

    async chat(request: ChatRequest, call: CallOptions): Promise<ChatCompletion> {
      const scope = openCallScope(call, closing.signal, settings.id);
      try {
        const { plan, identity } = await prepare(request, scope);
        const choices = await withSlot(scope, async (runtime, slot) => {
          const generated: GeneratedChoice[] = [];
          for (let index = 0; index < plan.choices; index += 1) {
            if (index > 0) await runtime.resetSlot(slot);
            generated.push(await generateChoice(runtime, slot, request, plan, index, scope.signal));
          }
          return generated;
        });
        return toChatCompletion(identity, choices, plan.promptTokens);
      } catch (error) {
        throw scope.toError(error);
      } finally {
        scope.dispose();
      }
    },

    async *chatStream(request: ChatRequest, call: CallOptions): AsyncIterable<ChatCompletionChunk> {
      const scope = openCallScope(call, closing.signal, settings.id);
      const channel = new ChunkChannel<ChatCompletionChunk>();
      let work: Promise<void> | undefined;
      try {
        const { plan, identity } = await prepare(request, scope);
        const chunks = new ChunkFactory(identity);
        work = withSlot(scope, (runtime, slot) => streamChoices(runtime, slot, request, plan, scope.signal, chunks, channel));
        work.then(
          () => channel.end(),
          (error: unknown) => channel.fail(scope.toError(error)),
        );
        yield* channel;
      } catch (error) {
        throw scope.toError(error);
      } finally {
        // Also reached when the reader stops early: stop generating, and let the slot be
        // cleaned and handed on before this call counts as finished.
        scope.stop();
        if (work) await Promise.allSettled([work]);
        scope.dispose();
      }
    },

    async close() {
      if (closing.signal.aborted) return;
      closing.abort();
      const settled = await Promise.allSettled([loading]);
      const loaded = settled[0].status === 'fulfilled' ? settled[0].value : undefined;
      loaded?.pool.close(new SluiceError('upstream-unavailable', `${settings.id}: the local model is shutting down`));
      await Promise.allSettled([...inFlight]);
      await loaded?.runtime.dispose();
    },
  };
};

/**
 * Streams every choice in turn. The role chunk goes out with the first text, not before: until
 * a token exists nothing is promised, so a failure before it lets the pipeline try the next
 * candidate. Tool calls are parsed from the whole answer, so with tools the text is sent once
 * generation ends.
 */
async function streamChoices(
  runtime: LlamaRuntime,
  slot: GenerationSlot,
  request: ChatRequest,
  plan: ChatPlan,
  signal: AbortSignal,
  chunks: ChunkFactory,
  channel: ChunkChannel<ChatCompletionChunk>,
): Promise<void> {
  const generated: GeneratedChoice[] = [];
  const streamsText = plan.toolMode === 'none';
  for (let index = 0; index < plan.choices; index += 1) {
    if (index > 0) await runtime.resetSlot(slot);
    let hasStarted = false;
    const start = () => {
      if (!hasStarted) channel.push(chunks.role(index));
      hasStarted = true;
    };
    const onText = (text: string) => {
      if (text === '') return;
      start();
      channel.push(chunks.text(index, text));
    };
    const choice = await generateChoice(runtime, slot, request, plan, index, signal, streamsText ? onText : undefined);
    start();
    if (!streamsText && choice.text !== '') channel.push(chunks.text(index, choice.text));
    if (choice.toolCalls.length > 0) channel.push(chunks.toolCalls(index, choice.toolCalls));
    channel.push(chunks.finish(index, choice.finishReason));
    generated.push(choice);
  }
  channel.push(chunks.usage(usageOf(plan.promptTokens, generated)));
}
