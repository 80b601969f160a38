import type { ChatCompletion } from '../../adapters/spec/index.js';

/** One cached answer: what was asked (in its scope), what was answered, and until when. */
export interface CachedAnswer {
  /** The request id of the attempt that produced the answer: what a hit's log row names. */
  id: string;
  tenantId: string;
  scope: string;
  exact: string;
  question: string;
  /** What the near-miss guard compares, extracted once when the entry was made (plain JSON). */
  facts: unknown;
  completion: ChatCompletion;
  /** The model that answered (a hit's attempt names it, with route `cache`). */
  modelId: string;
  createdAt: number;
  expiresAt: number;
  /** The question's unit embedding, when the semantic cache made one. */
  vector?: number[];
}

export type PurgeFilter = { all: true } | { tenantId: string } | { id: string };

/** Told of every entry that comes and goes, this instance's and (a shared store) every other's. */
export interface StoreListener {
  added(entry: CachedAnswer): void;
  removed(ids: readonly string[]): void;
  /** Everything matching went (a purge by another instance, whose ids this one need not know). */
  purged(filter: PurgeFilter): void;
}

/**
 * Where cached answers live: this process (memory-cache-store.ts) or Redis, shared by every
 * instance (redis-cache-store.ts). A store that cannot be reached answers "nothing there" and
 * drops writes: the cache degrades to misses, never to errors.
 */
export interface CacheStore {
  exactId(exact: string): Promise<string | undefined>;
  get(id: string): Promise<CachedAnswer | undefined>;
  put(entry: CachedAnswer): Promise<void>;
  /** A hit: the entry becomes the most recently used. */
  touch(id: string): void;
  /** Removes what matches; resolves with how many entries went. */
  purge(filter: PurgeFilter): Promise<number>;
  follow(listener: StoreListener): void;
  close(): Promise<void>;
}

export function matchesPurge(entry: Pick<CachedAnswer, 'id' | 'tenantId'>, filter: PurgeFilter): boolean {
  if ('all' in filter) return true;
  if ('tenantId' in filter) return entry.tenantId === filter.tenantId;
  return entry.id === filter.id;
}
