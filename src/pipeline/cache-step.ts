import { randomBytes } from 'node:crypto';
import { ChunkFactory, type ChatCompletion, type ChatCompletionChunk, type ChatRequest } from '../../adapters/spec/index.js';
import { cacheKeysOf } from '../cache/cache-keys.js';
import type { CacheHit, CacheProbe, ResponseCache } from '../cache/response-cache.js';
import type { QualityVerdict } from '../quality/quality-scorer.js';
import { opensWithRefusal } from '../quality/refusal-check.js';
import type { Attempt } from './attempt.js';
import { outputTextOf } from './chunk-assembly.js';
import type { RequestRun } from './request-run.js';

/**
 * What the caller asked of the cache: `use` it (read and store), `refresh` it (`cache-control:
 * no-cache`: do not read, store the fresh answer) or `bypass` it (`no-store`, or
 * `x-sluice-cache: bypass`: neither).
 */
export type CacheDirective = 'use' | 'refresh' | 'bypass';

export interface CacheStepSettings {
  /** Requests sampled hotter than this want variety, not a stored answer. */
  maxTemperature: number;
}

/** A lookup that found an answer, ready to be served as one attempt. */
export interface ServedHit {
  completion: ChatCompletion;
  attempt: Attempt;
}

/**
 * The cache's part of a chat request: whether it may be looked up at all, the hit as an attempt
 * (`cache-hit`, cost 0, naming the answer it served), and whether a fresh answer may be kept.
 */
export class CacheStep {
  constructor(
    private readonly cache: ResponseCache,
    private readonly settings: CacheStepSettings,
  ) {}

  /**
   * Looks the request up when it may be (sets the run's cache status either way). Undefined when
   * the request must neither be answered from the cache nor stored in it.
   */
  async probe(request: ChatRequest, run: RequestRun): Promise<CacheProbe | undefined> {
    const { tenant, signal, cacheDirective = 'use' } = run.context;
    const keys = cacheDirective === 'bypass' || tenant.cache === false || !this.isCacheable(request) ? undefined : cacheKeysOf(request, tenant.id);
    if (!keys) {
      run.cache = 'bypass';
      return undefined;
    }
    if (cacheDirective === 'refresh') return this.cache.prepare(keys, tenant.id, signal);
    const probe = await this.cache.lookup(keys, tenant.id, signal);
    if (probe.hit) run.cache = probe.hit.kind;
    return probe;
  }

  /** The hit as this request's answer: a fresh id and time, the cached content, cost 0. */
  serve(hit: CacheHit, startedAt: Date, startMs: number): ServedHit {
    const completion: ChatCompletion = { ...hit.entry.completion, id: newCachedId(), created: Math.floor(Date.now() / 1000) };
    const latencyMs = performance.now() - startMs;
    const attempt: Attempt = Object.freeze({
      modelId: hit.entry.modelId,
      backendId: 'cache',
      route: 'cache',
      outcome: 'cache-hit',
      startedAt,
      firstTokenMs: latencyMs,
      latencyMs,
      usage: completion.usage,
      costUsd: 0,
      isCostEstimated: false,
      outputText: outputTextOf(completion),
      cacheEntryId: hit.entry.id,
    });
    return { completion, attempt };
  }

  /**
   * Keeps a served answer for the next caller, in the background, when it is a whole, good answer:
   * every choice finished (`stop`), text and not a refusal, and not scored below the threshold.
   */
  remember(probe: CacheProbe | undefined, id: string, completion: ChatCompletion, modelId: string, quality: QualityVerdict | undefined, threshold: number): void {
    if (!probe || probe.hit || !isKeepable(completion) || (quality && quality.score < threshold)) return;
    void this.cache.remember(probe, id, completion, modelId);
  }

  private isCacheable(request: ChatRequest): boolean {
    // Tools may act on the world; a second call must reach the model again.
    if (request.tools?.length || request.functions !== undefined) return false;
    // No temperature is the vendor's default (1 at OpenAI), which callers leave alone without
    // wanting variety: only one set explicitly above the bar asks for a fresh answer each time.
    return (request.n ?? 1) === 1 && (request.temperature == null || request.temperature <= this.settings.maxTemperature);
  }
}

/** A cached answer as a stream: the shape a live one has (role, content pieces, finish, usage when asked). */
export async function* replayCompletion(completion: ChatCompletion, wantsUsage: boolean): AsyncGenerator<ChatCompletionChunk> {
  const chunks = new ChunkFactory({ id: completion.id, created: completion.created, model: completion.model, fingerprint: completion.system_fingerprint ?? undefined });
  // As OpenAI sends them: each choice chunk names the service tier, and with `include_usage`
  // carries `usage: null` until the last chunk, which has the usage and no choices.
  const tier = completion.service_tier == null ? {} : { service_tier: completion.service_tier };
  const dressed = (chunk: ChatCompletionChunk): ChatCompletionChunk => ({ ...chunk, ...tier, ...(wantsUsage && { usage: null }) });
  for (const choice of completion.choices) {
    const role = chunks.role(choice.index);
    // OpenAI's first delta says there is no refusal; a replay says it too.
    yield dressed({ ...role, choices: role.choices.map((entry) => ({ ...entry, delta: { ...entry.delta, refusal: null } })) });
    for (const piece of (choice.message.content ?? '').match(PIECES) ?? []) yield dressed(chunks.text(choice.index, piece));
    if (choice.message.tool_calls?.length) yield dressed(chunks.toolCalls(choice.index, choice.message.tool_calls));
    yield dressed(chunks.finish(choice.index, choice.finish_reason));
  }
  if (wantsUsage && completion.usage) yield chunks.usage(completion.usage);
}

/** A word per chunk, its leading space kept: about the size of a live stream's token deltas. */
const PIECES = /\s*\S+|\s+/g;

function isKeepable(completion: ChatCompletion): boolean {
  return (
    completion.choices.length > 0 &&
    completion.choices.every((choice) => {
      const content = choice.message.content;
      return choice.finish_reason === 'stop' && !choice.message.refusal && !choice.message.tool_calls?.length && typeof content === 'string' && content.trim() !== '' && !opensWithRefusal(content);
    })
  );
}

function newCachedId(): string {
  return `chatcmpl-cache-${randomBytes(12).toString('hex')}`;
}
