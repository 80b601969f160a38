import { SluiceError } from '../../adapters/spec/index.js';
import { EMBEDDING_DIMENSIONS, type EmbeddingMatch, type EmbeddingStore } from '../store/embedding-store.js';
import type { ModelCatalog } from '../routing/model-catalog.js';
import type { RequestRecord } from './attempt.js';
import type { CallContext } from './request-run.js';
import type { EmbeddingsPipeline } from './embeddings-pipeline.js';

/** The width of the `embeddings` table's vector column: what can be stored and searched. */
export const STORED_DIMENSIONS = EMBEDDING_DIMENSIONS;

export interface VectorSearchCall {
  /** Exactly one of `query` (embedded first) and `vector` (searched as it is). */
  query?: string;
  vector?: readonly number[];
  /** The model that embeds `query`; the first local embedding model when absent. */
  model?: string;
  topK: number;
  /** Metadata containment (`metadata @> filter`). */
  filter?: Record<string, unknown>;
}

export interface VectorSearchAnswer {
  matches: EmbeddingMatch[];
  /** The model that embedded the query (or that was named / is the default, for a raw vector). */
  model: string | undefined;
  usage: { prompt_tokens: number; total_tokens: number };
  /** Present when a query was embedded: for the x-sluice-* headers and the log. */
  record?: RequestRecord;
}

/**
 * The gateway's memory (DESIGN §3, the plan's RAG use): embeddings written to the `embeddings`
 * table on request, and searched by text or by vector. A query text goes through the
 * EmbeddingsPipeline, so auth, tenant model rules and the budget apply to it as to /v1/embeddings.
 */
export class VectorPipeline {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly embeddings: EmbeddingsPipeline,
    private readonly store?: EmbeddingStore,
  ) {}

  get hasStore(): boolean {
    return this.store !== undefined;
  }

  /** The first configured model that embeds on a local backend: free, and 384-d for MiniLM. */
  defaultModel(): string | undefined {
    return this.catalog.models().find((model) => model.capabilities.includes('embed') && this.catalog.isLocal(model.id))?.id;
  }

  /** 503 when the gateway runs without a database, before any model is called. */
  requireStore(): EmbeddingStore {
    if (!this.store) {
      throw new SluiceError('upstream-unavailable', 'no vector store is configured: Sluice stores and searches embeddings only when it is started with its database (embedded PGlite under SLUICE_DATA_DIR, or DATABASE_URL)', {
        code: 'vector_store_unavailable',
      });
    }
    return this.store;
  }

  /** 400 unless every vector fits the table, saying which model to use instead. */
  checkDimensions(vectors: readonly (readonly number[])[], modelId: string, param: string): void {
    const wrong = vectors.find((vector) => vector.length !== STORED_DIMENSIONS);
    if (wrong === undefined) return;
    const suggestion = this.defaultModel();
    const use = suggestion ? `use the local model '${suggestion}'` : 'configure a local 384-dimensional embedding model such as all-MiniLM-L6-v2';
    throw new SluiceError(
      'invalid-request',
      `the vector store holds ${STORED_DIMENSIONS}-dimensional vectors, but '${modelId}' gave ${wrong.length} dimensions: ${use} (without 'dimensions', or with dimensions: ${STORED_DIMENSIONS})`,
      { param },
    );
  }

  /** Writes one row per text, in order; the caller has checked the dimensions. */
  async save(texts: readonly string[], vectors: readonly (readonly number[])[], modelId: string, metadata: Record<string, unknown> = {}): Promise<string[]> {
    const store = this.requireStore();
    const ids: string[] = [];
    for (const [index, text] of texts.entries()) ids.push(await store.insert(text, vectors[index], modelId, metadata));
    return ids;
  }

  async search(call: VectorSearchCall, context: CallContext): Promise<VectorSearchAnswer> {
    const store = this.requireStore();
    if (call.vector !== undefined) {
      this.checkDimensions([call.vector], 'the request', 'vector');
      const matches = await store.search(call.vector, call.topK, call.filter);
      return { matches, model: call.model ?? this.defaultModel(), usage: { prompt_tokens: 0, total_tokens: 0 } };
    }
    const model = call.model ?? this.defaultModel();
    if (model === undefined) {
      throw new SluiceError('invalid-request', "no local embedding model is configured to embed 'query': name one in 'model', or send 'vector'", { param: 'model' });
    }
    const { result, record } = await this.embeddings.embed({ model, input: { kind: 'text', values: [call.query ?? ''] } }, context);
    const modelId = record.served!.modelId;
    this.checkDimensions(result.vectors, modelId, 'model');
    const matches = await store.search(result.vectors[0], call.topK, call.filter);
    return { matches, model: modelId, usage: { prompt_tokens: result.usage.prompt_tokens, total_tokens: result.usage.total_tokens }, record };
  }
}
