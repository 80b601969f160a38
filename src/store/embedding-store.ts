import type { SqlDatabase } from './sql-database.js';

export const EMBEDDING_DIMENSIONS = 384;

export interface EmbeddingMatch {
  id: string;
  content: string;
  modelId: string | undefined;
  metadata: Record<string, unknown>;
  distance: number; // cosine distance, 0 = same direction
}

export interface EmbeddingStore {
  insert(content: string, vector: readonly number[], modelId: string, metadata?: Record<string, unknown>): Promise<string>;
  search(vector: readonly number[], topK: number, metadataFilter?: Record<string, unknown>): Promise<EmbeddingMatch[]>;
}

/**
 * The search statement, exported so a test can EXPLAIN exactly what runs. `metadata @> filter` is
 * applied after the index scan: with a selective filter fewer than topK rows can come back.
 */
export function buildSearchQuery(hasFilter: boolean): string {
  return (
    `select id::text as id, content, model_id, metadata, embedding <=> $1::vector as distance
       from embeddings` +
    (hasFilter ? ` where metadata @> $3::jsonb` : '') +
    ` order by embedding <=> $1::vector limit $2`
  );
}

export function toVectorLiteral(vector: readonly number[]): string {
  if (vector.length !== EMBEDDING_DIMENSIONS) {
    throw new RangeError(`embedding has ${vector.length} dimensions, the table takes ${EMBEDDING_DIMENSIONS}`);
  }
  if (!vector.every(Number.isFinite)) throw new RangeError('embedding has a non-finite value');
  return `[${vector.join(',')}]`;
}

export class SqlEmbeddingStore implements EmbeddingStore {
  /**
   * probes: ivfflat lists searched per query. pgvector's default (1) and any small number lose
   * results on a table smaller than the index's 100 lists, because the lists were laid out when
   * the table was empty; the default is therefore all 100 (exact). Lower it for speed once the
   * table is large and the index has been rebuilt on real data (REINDEX).
   */
  constructor(
    private readonly database: SqlDatabase,
    private readonly options: { probes?: number } = {},
  ) {}

  async insert(
    content: string,
    vector: readonly number[],
    modelId: string,
    metadata: Record<string, unknown> = {},
  ): Promise<string> {
    const result = await this.database.query<{ id: string }>(
      `insert into embeddings (content, embedding, model_id, metadata)
       values ($1, $2::vector, $3, $4::jsonb) returning id::text as id`,
      [content, toVectorLiteral(vector), modelId, JSON.stringify(metadata)],
    );
    return result.rows[0].id;
  }

  async search(
    vector: readonly number[],
    topK: number,
    metadataFilter?: Record<string, unknown>,
  ): Promise<EmbeddingMatch[]> {
    const probes = Math.max(1, Math.trunc(this.options.probes ?? 100));
    const params: unknown[] = [toVectorLiteral(vector), Math.max(1, Math.trunc(topK))];
    if (metadataFilter !== undefined) params.push(JSON.stringify(metadataFilter));
    const rows = await this.database.transaction(async (session) => {
      // `set local` takes no bind parameter; probes is an integer we built above.
      await session.exec(`set local ivfflat.probes = ${probes}`);
      const result = await session.query<{
        id: string;
        content: string;
        model_id: string | null;
        metadata: Record<string, unknown>;
        distance: number | string;
      }>(buildSearchQuery(metadataFilter !== undefined), params);
      return result.rows;
    });
    return rows.map((row) => ({
      id: row.id,
      content: row.content,
      modelId: row.model_id ?? undefined,
      metadata: row.metadata,
      distance: Number(row.distance),
    }));
  }
}
