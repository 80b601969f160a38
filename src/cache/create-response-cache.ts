import type { Logger } from 'pino';
import type { Adapter } from '../../adapters/spec/index.js';
import type { Config } from '../config/schema.js';
import type { CacheStore } from './cache-store.js';
import { MemoryCacheStore } from './memory-cache-store.js';
import { RedisCacheStore } from './redis-cache-store.js';
import { ResponseCache, type PromptEmbedder } from './response-cache.js';

/** Embedding a prompt is a local model call of a few ms; longer means trouble, and the request goes on as a miss. */
const EMBED_TIMEOUT_MS = 2_000;

/**
 * The cache the config asks for: in this process, or shared through Redis when
 * `storage.redis_url` is set; semantic when the configured embedding model is served locally.
 * Undefined when `cache.enabled` is false.
 */
export function createResponseCache(config: Config, adapters: ReadonlyMap<string, Adapter>, logger: Logger): ResponseCache | undefined {
  const settings = config.cache;
  if (!settings.enabled) return undefined;
  const onTrouble = (error: Error) => logger.warn({ err: error.message }, 'response cache trouble: answering as a miss');
  const store: CacheStore = config.storage.redis_url
    ? new RedisCacheStore({ url: config.storage.redis_url, maxEntries: settings.max_entries, onTrouble })
    : new MemoryCacheStore(settings.max_entries);
  const embed = settings.semantic ? promptEmbedder(config, adapters, logger) : undefined;
  return new ResponseCache({ store, embed, exact: settings.exact, threshold: settings.similarity_threshold, wordThreshold: settings.word_similarity_threshold, ttlMs: settings.ttl_seconds * 1000, onTrouble });
}

/** The configured embedding model's local adapter, one prompt per call; none when it is not served locally. */
function promptEmbedder(config: Config, adapters: ReadonlyMap<string, Adapter>, logger: Logger): PromptEmbedder | undefined {
  const embed = localPromptEmbedder(config, adapters, 'cache-embed');
  if (!embed) logger.warn({ model: config.cache.embedding_model }, 'cache.embedding_model is not a local embedding model: the cache answers exact repeats only');
  return embed;
}

/**
 * `cache.embedding_model` served by its local adapter, one prompt per call (the cache, drift
 * detection); undefined when that model is not a local embedding model. `purpose` prefixes the
 * request ids the adapter sees.
 */
export function localPromptEmbedder(config: Config, adapters: ReadonlyMap<string, Adapter>, purpose: string): PromptEmbedder | undefined {
  const model = config.models.find((candidate) => candidate.id === config.cache.embedding_model);
  const adapter = model && adapters.get(model.backend);
  if (!model || !adapter?.embed || adapter.location !== 'local' || !model.capabilities.includes('embed')) return undefined;
  const upstream = model.upstream_model ?? model.id;
  let calls = 0;
  return async (text, signal) => {
    const result = await adapter.embed!({ model: upstream, input: { kind: 'text', values: [text] } }, { requestId: `${purpose}-${++calls}`, signal, timeoutMs: EMBED_TIMEOUT_MS });
    const vector = result.vectors[0];
    if (!vector) throw new Error(`${model.backend} returned no vector`);
    return Float32Array.from(vector);
  };
}
