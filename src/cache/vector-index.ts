import usearch from 'usearch';

/** What the index keeps beside a vector, so a candidate can be judged without a store round trip. */
export interface IndexedPrompt<Facts> {
  id: string;
  tenantId: string;
  scope: string;
  facts: Facts;
  expiresAt: number;
}

export interface Neighbour<Facts> {
  entry: IndexedPrompt<Facts>;
  /** Cosine similarity, -1..1. */
  similarity: number;
}

interface ScopeIndex {
  index: InstanceType<typeof usearch.Index>;
  keys: Set<bigint>;
}

/**
 * Prompt vectors by scope, each scope its own HNSW graph (usearch), so a search never wades through
 * other tenants' or system prompts' entries and a scope's result is exact for small scopes. The
 * vectors are the local embedding model's, unit length, compared by cosine.
 */
export class VectorIndex<Facts> {
  private readonly scopes = new Map<string, ScopeIndex>();
  private readonly byKey = new Map<bigint, IndexedPrompt<Facts>>();
  private readonly keyOf = new Map<string, bigint>();
  private nextKey = 1n;

  constructor(private readonly dimensions: number) {}

  get size(): number {
    return this.byKey.size;
  }

  has(id: string): boolean {
    return this.keyOf.has(id);
  }

  /** Adds (or replaces) an entry's vector. A vector of another width is ignored: another model made it. */
  add(entry: IndexedPrompt<Facts>, vector: Float32Array): void {
    if (vector.length !== this.dimensions) return;
    this.remove(entry.id);
    let scope = this.scopes.get(entry.scope);
    if (!scope) {
      scope = { index: new usearch.Index({ dimensions: this.dimensions, metric: usearch.MetricKind.Cos, quantization: usearch.ScalarKind.F32, connectivity: 16, expansion_add: 64, expansion_search: 64, multi: false }), keys: new Set() };
      this.scopes.set(entry.scope, scope);
    }
    const key = this.nextKey++;
    scope.index.add(key, vector);
    scope.keys.add(key);
    this.byKey.set(key, entry);
    this.keyOf.set(entry.id, key);
  }

  remove(id: string): void {
    const key = this.keyOf.get(id);
    if (key === undefined) return;
    const entry = this.byKey.get(key)!;
    this.keyOf.delete(id);
    this.byKey.delete(key);
    const scope = this.scopes.get(entry.scope);
    if (!scope) return;
    scope.keys.delete(key);
    if (scope.keys.size === 0) this.scopes.delete(entry.scope);
    else scope.index.remove(key);
  }

  /** Ids of every entry, optionally one tenant's. */
  ids(tenantId?: string): string[] {
    const ids: string[] = [];
    for (const entry of this.byKey.values()) if (tenantId === undefined || entry.tenantId === tenantId) ids.push(entry.id);
    return ids;
  }

  clear(): void {
    this.scopes.clear();
    this.byKey.clear();
    this.keyOf.clear();
  }

  /** The `count` nearest live entries of one scope, nearest first; expired ones met on the way are dropped. */
  nearest(scopeId: string, vector: Float32Array, count: number, now = Date.now()): Neighbour<Facts>[] {
    const scope = this.scopes.get(scopeId);
    if (!scope || vector.length !== this.dimensions) return [];
    const matches = scope.index.search(vector, Math.min(count, scope.keys.size), 1);
    const found: Neighbour<Facts>[] = [];
    for (let position = 0; position < matches.keys.length; position++) {
      const entry = this.byKey.get(matches.keys[position]);
      if (!entry) continue;
      if (entry.expiresAt <= now) {
        this.remove(entry.id);
        continue;
      }
      found.push({ entry, similarity: 1 - matches.distances[position] });
    }
    return found;
  }
}
