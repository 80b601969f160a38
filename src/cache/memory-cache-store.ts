import { matchesPurge, type CachedAnswer, type CacheStore, type PurgeFilter, type StoreListener } from './cache-store.js';

/**
 * The cache in this process: a Map in least-recently-used order (a hit moves its entry to the
 * end), at most `maxEntries`, each entry gone at its `expiresAt` (checked on read, and swept).
 */
export class MemoryCacheStore implements CacheStore {
  private readonly entries = new Map<string, CachedAnswer>();
  private readonly exact = new Map<string, string>();
  private readonly listeners: StoreListener[] = [];
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
    sweepEveryMs = 60_000,
  ) {
    this.sweeper = setInterval(() => this.sweep(), sweepEveryMs).unref();
  }

  get size(): number {
    return this.entries.size;
  }

  async exactId(exact: string): Promise<string | undefined> {
    const id = this.exact.get(exact);
    return id && this.live(id) ? id : undefined;
  }

  async get(id: string): Promise<CachedAnswer | undefined> {
    return this.live(id);
  }

  async put(entry: CachedAnswer): Promise<void> {
    this.drop([entry.id]);
    this.entries.set(entry.id, entry);
    this.exact.set(entry.exact, entry.id);
    for (const listener of this.listeners) listener.added(entry);
    const excess = this.entries.size - this.maxEntries;
    if (excess > 0) this.drop([...this.entries.keys()].slice(0, excess));
  }

  touch(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.entries.set(id, entry);
  }

  async purge(filter: PurgeFilter): Promise<number> {
    const doomed = [...this.entries.values()].filter((entry) => matchesPurge(entry, filter)).map((entry) => entry.id);
    this.drop(doomed);
    return doomed.length;
  }

  follow(listener: StoreListener): void {
    this.listeners.push(listener);
    for (const entry of this.entries.values()) listener.added(entry);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private live(id: string): CachedAnswer | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt > this.now()) return entry;
    this.drop([id]);
    return undefined;
  }

  private sweep(): void {
    const now = this.now();
    this.drop([...this.entries.values()].filter((entry) => entry.expiresAt <= now).map((entry) => entry.id));
  }

  private drop(ids: readonly string[]): void {
    const gone = ids.filter((id) => {
      const entry = this.entries.get(id);
      if (!entry) return false;
      this.entries.delete(id);
      if (this.exact.get(entry.exact) === id) this.exact.delete(entry.exact);
      return true;
    });
    if (gone.length > 0) for (const listener of this.listeners) listener.removed(gone);
  }
}
