import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import type { AdapterSettings } from '../spec/index.js';

type LogSink = NonNullable<AdapterSettings['log']>;

/**
 * One llama.cpp runtime per process, shared by every llama-cpp backend.
 *
 * `Llama.dispose()` frees the native backend, which is loaded once per process and shared by
 * all `Llama` objects: closing one backend would pull the runtime out from under another
 * still generating. So backends take a reference and the last one out disposes it.
 */
let shared: Promise<Llama> | undefined;
let references = 0;
const sinks = new Set<LogSink>();

export async function acquireLlama(log: LogSink | undefined): Promise<Llama> {
  references += 1;
  if (log) sinks.add(log);
  shared ??= getLlama({
    // Never probe CUDA/Vulkan, never build or download at run time (DESIGN §7): the
    // prebuilt CPU binary in the package is the one that loads offline.
    gpu: false,
    build: 'never',
    skipDownload: true,
    progressLogs: false,
    // Thread counts are set per context (see llama-runtime.ts); no process-wide cap.
    maxThreads: 0,
    logLevel: LlamaLogLevel.warn,
    logger: (level, message) => {
      const text = message.trim();
      if (text === '') return;
      const mapped = level === LlamaLogLevel.error || level === LlamaLogLevel.fatal ? 'error' : 'warn';
      for (const sink of sinks) sink(mapped, `llama.cpp: ${text}`);
    },
  });
  try {
    return await shared;
  } catch (error) {
    shared = undefined;
    await releaseLlama(log);
    throw error;
  }
}

export async function releaseLlama(log: LogSink | undefined): Promise<void> {
  references -= 1;
  if (log) sinks.delete(log);
  if (references > 0 || !shared) return;
  const llama = shared;
  shared = undefined;
  await (await llama).dispose();
}
