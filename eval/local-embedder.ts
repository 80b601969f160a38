import type { Adapter } from '../adapters/spec/index.js';
import { createOnnxEmbeddingAdapter } from '../adapters/onnx/onnx-embedding-adapter.js';
import { loadConfig } from '../src/config/load.js';

/** The backend that embeds prompts for the router, as config/sluice.yaml names it. */
const EMBEDDING_BACKEND = 'local-embeddings';
/** Inputs per embed call: the adapter's micro-batcher splits them into model runs itself. */
const BATCH = 32;

export interface LocalEmbedder {
  /** One unit-length 384-d vector per text, in order. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  /** Wall time spent inside `embed`, summed, and the texts embedded: for the eval's report. */
  readonly stats: { texts: number; totalMs: number };
}

/**
 * Runs `fn` with the gateway's own local embedding adapter (the `local-embeddings` backend of the
 * shipped config, no environment overrides), so training and eval see the vectors the gateway
 * computes at run time, then closes the adapter whatever `fn` did.
 */
export async function withLocalEmbedder<T>(fn: (embedder: LocalEmbedder) => Promise<T>): Promise<T> {
  const config = loadConfig({});
  const backend = config.backends[EMBEDDING_BACKEND];
  if (!backend) throw new Error(`config has no backend "${EMBEDDING_BACKEND}"`);
  const adapter: Adapter = createOnnxEmbeddingAdapter({
    id: EMBEDDING_BACKEND,
    type: backend.type,
    timeoutMs: backend.timeout_ms,
    options: backend.options,
    paths: { modelsDir: config.paths.models_dir, dataDir: config.paths.data_dir },
  });
  try {
    await adapter.ready?.();
    const stats = { texts: 0, totalMs: 0 };
    const embed = async (texts: readonly string[]): Promise<Float32Array[]> => {
      const vectors: Float32Array[] = [];
      for (let start = 0; start < texts.length; start += BATCH) {
        const values = texts.slice(start, start + BATCH);
        const began = performance.now();
        const result = await adapter.embed!(
          { model: 'all-minilm-l6-v2', input: { kind: 'text', values } },
          { requestId: `embed-${start}`, signal: new AbortController().signal, timeoutMs: 120_000 },
        );
        stats.totalMs += performance.now() - began;
        stats.texts += values.length;
        vectors.push(...result.vectors.map((vector) => Float32Array.from(vector)));
      }
      return vectors;
    };
    return await fn({ embed, stats });
  } finally {
    await adapter.close();
  }
}
