import type { ChatCompletion } from '../../adapters/spec/index.js';
import type { CacheKeys } from './cache-keys.js';
import type { CachedAnswer, CacheStore, PurgeFilter, StoreListener } from './cache-store.js';
import { readFacts } from './near-miss-guard.js';
import { judgePair, type PhraseSimilarity } from './pair-judge.js';
import { withoutCourtesy } from './courtesy.js';
import { promptFacts, type PromptFacts } from './prompt-facts.js';
import { cosine } from '../quality/relevance-scorer.js';
import { VectorIndex } from './vector-index.js';
import { preloadWordSenses } from './word-senses.js';

/** Unit-length embedding of one prompt, by the local embedding model. */
export type PromptEmbedder = (text: string, signal: AbortSignal) => Promise<Float32Array>;

export interface ResponseCacheOptions {
  store: CacheStore;
  /** Paraphrases are looked up only with an embedder; without one the cache is exact-only. */
  embed?: PromptEmbedder;
  /** false: exact repeats are found only as paraphrases (the embedding and guard still run). */
  exact?: boolean;
  /** Cosine similarity a paraphrase needs before the near-miss guard is asked. */
  threshold: number;
  /** Similarity the words swapped between two otherwise identical prompts need (synonyms, not antonyms). */
  wordThreshold: number;
  ttlMs: number;
  /** Neighbours the guard is asked about, nearest first: the nearest may be a near-miss, the next a paraphrase. */
  neighbours?: number;
  now?: () => number;
  /** An embedding or store failure: the request goes on as a miss. */
  onTrouble?: (error: Error) => void;
}

export interface CacheHit {
  kind: 'exact' | 'semantic';
  entry: CachedAnswer;
  /** Semantic hits: the cosine similarity of the two prompts. */
  similarity?: number;
}

/** What a lookup learnt about the prompt, so storing its answer later embeds nothing twice. */
export interface CacheProbe {
  keys: CacheKeys;
  tenantId: string;
  facts: PromptFacts;
  vector?: Float32Array;
  hit?: CacheHit;
}

/**
 * The response cache: an exact lookup (the normalised request), then a semantic one (the nearest
 * prompts of the same scope above the similarity threshold) whose candidates the near-miss guard
 * must pass — the same question asked in other words, never a different question that embeds close.
 * Entries live in a `CacheStore`; the vectors are also kept in an in-process index that follows
 * the store, so a shared store's entries from other instances are found here too.
 */
export class ResponseCache implements StoreListener {
  private index: VectorIndex<PromptFacts> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: ResponseCacheOptions) {
    this.now = options.now ?? Date.now;
    options.store.follow(this);
    // The guard's word senses are read now, not on the first paraphrase a user waits for.
    if (options.embed) preloadWordSenses();
  }

  /**
   * The probe of a request that must not be answered from the cache (`cache-control: no-cache`)
   * but whose answer is kept: embedded now, so the entry is in before the answer leaves.
   */
  async prepare(keys: CacheKeys, tenantId: string, signal: AbortSignal): Promise<CacheProbe> {
    const probe: CacheProbe = { keys, tenantId, facts: promptFacts(withoutCourtesy(keys.question)) };
    try {
      if (this.options.embed) probe.vector = await this.options.embed(keys.question, signal);
    } catch (error) {
      if (!signal.aborted) this.options.onTrouble?.(error as Error);
    }
    return probe;
  }

  /** Exact first (no embedding needed), then semantic. Never throws: trouble is a miss. */
  async lookup(keys: CacheKeys, tenantId: string, signal: AbortSignal): Promise<CacheProbe> {
    const probe: CacheProbe = { keys, tenantId, facts: promptFacts(withoutCourtesy(keys.question)) };
    try {
      const exactId = this.options.exact === false ? undefined : await this.options.store.exactId(keys.exact);
      const exact = exactId === undefined ? undefined : await this.options.store.get(exactId);
      if (exact && exact.exact === keys.exact) return this.served(probe, { kind: 'exact', entry: exact });
      if (!this.options.embed) return probe;
      probe.vector = await this.options.embed(keys.question, signal);
      for (const { entry, similarity } of this.index?.nearest(keys.scope, probe.vector, this.options.neighbours ?? 4, this.now()) ?? []) {
        if (similarity < this.options.threshold) break;
        const cached = await this.options.store.get(entry.id);
        if (!cached || cached.scope !== keys.scope) continue;
        const verdict = await judgePair({ question: cached.question, facts: entry.facts }, { question: keys.question, facts: probe.facts }, this.phraseSimilarity(signal), this.options.wordThreshold, this.options.threshold);
        if (verdict.same) return this.served(probe, { kind: 'semantic', entry: cached, similarity });
      }
    } catch (error) {
      if (!signal.aborted) this.options.onTrouble?.(error as Error);
    }
    return probe;
  }

  /** Keeps `completion` as the answer to the probed prompt. Never throws; a failed write is dropped. */
  async remember(probe: CacheProbe, id: string, completion: ChatCompletion, modelId: string): Promise<void> {
    try {
      if (this.options.embed && !probe.vector) probe.vector = await this.options.embed(probe.keys.question, new AbortController().signal);
      const createdAt = this.now();
      await this.options.store.put({
        id,
        tenantId: probe.tenantId,
        scope: probe.keys.scope,
        exact: probe.keys.exact,
        question: probe.keys.question,
        facts: probe.facts,
        completion,
        modelId,
        createdAt,
        expiresAt: createdAt + this.options.ttlMs,
        vector: probe.vector && Array.from(probe.vector),
      });
    } catch (error) {
      this.options.onTrouble?.(error as Error);
    }
  }

  purge(filter: PurgeFilter): Promise<number> {
    return this.options.store.purge(filter);
  }

  close(): Promise<void> {
    return this.options.store.close();
  }

  added(entry: CachedAnswer): void {
    const facts = readFacts(entry.facts);
    // An entry made by another version's guard, or without a vector, is found by exact lookup only.
    if (!facts || !entry.vector) return;
    this.index ??= new VectorIndex<PromptFacts>(entry.vector.length);
    this.index.add({ id: entry.id, tenantId: entry.tenantId, scope: entry.scope, facts, expiresAt: entry.expiresAt }, Float32Array.from(entry.vector));
  }

  removed(ids: readonly string[]): void {
    for (const id of ids) this.index?.remove(id);
  }

  purged(filter: PurgeFilter): void {
    if ('all' in filter) this.index?.clear();
    else if ('id' in filter) this.index?.remove(filter.id);
    else for (const id of this.index?.ids(filter.tenantId) ?? []) this.index?.remove(id);
  }

  /** The embedder as a phrase comparer, for the words two candidate prompts swapped. */
  private phraseSimilarity(signal: AbortSignal): PhraseSimilarity | undefined {
    const embed = this.options.embed;
    if (!embed) return undefined;
    return async (a, b) => {
      const [left, right] = await Promise.all([embed(a, signal), embed(b, signal)]);
      return cosine(left, right);
    };
  }

  private served(probe: CacheProbe, hit: CacheHit): CacheProbe {
    this.options.store.touch(hit.entry.id);
    probe.hit = hit;
    return probe;
  }
}
