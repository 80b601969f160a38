import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import ws from 'ws';
import { toVectorLiteral, type EmbeddingMatch, type EmbeddingStore } from './embedding-store.js';
import type { LoggedInference, RowSink } from './inference-log.js';

/**
 * The `SUPABASE_URL` + service-role key backend: the same two tables as the SQL backends, reached
 * over PostgREST through supabase-js. The tables and `match_embeddings` come from the project's
 * migrations, which the operator applies (Supabase SQL editor, or `sluice migrate` with
 * DATABASE_URL set to the Supabase connection string): PostgREST cannot run DDL.
 */
export interface SupabaseStoreOptions {
  url: string; // SUPABASE_URL, e.g. https://<project>.supabase.co
  serviceRoleKey: string; // SUPABASE_SERVICE_ROLE_KEY: bypasses row-level security
  /** Per-request timeout; a hung request would otherwise hold the log's pump forever. Default 10 000. */
  timeoutMs?: number;
}

/** A PostgREST `{ error }` result, thrown so the log's retry / spill machinery sees the failure. */
export class SupabaseStoreError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number, // 0 when no HTTP answer came back (network error, timeout)
    readonly code: string | undefined, // SQLSTATE or PGRSTxxx
    message: string,
    readonly details: string | undefined,
    readonly hint: string | undefined,
  ) {
    super(`supabase ${operation} failed (${status}${code ? ` ${code}` : ''}): ${message}`);
    this.name = 'SupabaseStoreError';
  }
}

interface PostgrestFailure {
  error: { message: string; code?: string; details?: string | null; hint?: string | null } | null;
  status: number;
}

function throwIfFailed(operation: string, result: PostgrestFailure): void {
  const { error } = result;
  if (error === null) return;
  throw new SupabaseStoreError(
    operation,
    result.status,
    error.code || undefined,
    error.message,
    error.details ?? undefined,
    error.hint ?? undefined,
  );
}

// ws's constructor types its arguments more loosely than realtime-js's WebSocketLikeConstructor
// declares; at run time it is the implementation realtime-js expects on Node.
type RealtimeTransport = NonNullable<NonNullable<NonNullable<Parameters<typeof createClient>[2]>['realtime']>['transport']>;

export function createSupabaseStoreClient(options: SupabaseStoreOptions): SupabaseClient {
  return createClient(options.url, options.serviceRoleKey, {
    // A server process: no session to persist or refresh; every request carries the service key.
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    // supabase-js on Node 20 throws at creation without a WebSocket implementation (DESIGN §7),
    // although the store never opens a realtime channel.
    realtime: { transport: ws as unknown as RealtimeTransport },
    db: { timeout: options.timeoutMs ?? 10_000 },
  });
}

/** LoggedInference → the snake_case columns of `model_inferences` (001, 003), unknown as null. */
export function toInferenceRecord(row: LoggedInference): Record<string, unknown> {
  return {
    request_id: row.requestId,
    attempt: row.attempt,
    model_id: row.modelId ?? null,
    input_text: row.inputText ?? null,
    output: row.output ?? null,
    quality_score: row.qualityScore ?? null,
    cost: row.costUsd ?? null,
    latency_ms: row.latencyMs ?? null,
    routing_reason: row.routingReason ?? null,
    created_at: row.createdAt,
    tenant: row.tenant ?? null,
    tier: row.tier ?? null,
    route: row.route ?? null,
    cache_status: row.cacheStatus ?? null,
    prompt_tokens: row.promptTokens ?? null,
    completion_tokens: row.completionTokens ?? null,
    escalated_from: row.escalatedFrom ?? null,
    error: row.error ?? null,
    is_estimated: row.isEstimated ?? false,
    outcome: row.outcome ?? null,
    ttft_ms: row.ttftMs ?? null,
    quality_reasons: row.qualityReasons ?? null,
    cache_entry_id: row.cacheEntryId ?? null,
  };
}

// One request per chunk keeps a large spill replay under PostgREST's request body limit.
const MAX_ROWS_PER_REQUEST = 500;

/**
 * Upsert with `resolution=ignore-duplicates` on (request_id, attempt): PostgREST's
 * `on conflict (request_id, attempt) do nothing`, so a replayed row is skipped, not duplicated.
 * POSTs are not retried by postgrest-js; retries belong to the log.
 */
export class SupabaseRowSink implements RowSink {
  constructor(private readonly client: SupabaseClient) {}

  async insert(rows: readonly LoggedInference[]): Promise<void> {
    for (let start = 0; start < rows.length; start += MAX_ROWS_PER_REQUEST) {
      const records = rows.slice(start, start + MAX_ROWS_PER_REQUEST).map(toInferenceRecord);
      const result = await this.client
        .from('model_inferences')
        .upsert(records, { onConflict: 'request_id,attempt', ignoreDuplicates: true });
      throwIfFailed('insert into model_inferences', result);
    }
  }
}

interface MatchRow {
  id: number | string;
  content: string;
  model_id: string | null;
  metadata: Record<string, unknown>;
  distance: number | string;
}

/** The embeddings table over PostgREST; search is the `match_embeddings` function (002 migration). */
export class SupabaseEmbeddingStore implements EmbeddingStore {
  /** probes: ivfflat lists searched per query; all 100 by default, as in SqlEmbeddingStore (exact on small tables). */
  constructor(
    private readonly client: SupabaseClient,
    private readonly options: { probes?: number } = {},
  ) {}

  async insert(
    content: string,
    vector: readonly number[],
    modelId: string,
    metadata: Record<string, unknown> = {},
  ): Promise<string> {
    const result = await this.client
      .from('embeddings')
      .insert({ content, embedding: toVectorLiteral(vector), model_id: modelId, metadata })
      .select('id');
    throwIfFailed('insert into embeddings', result);
    const id = (result.data as Array<{ id: number | string }> | null)?.[0]?.id;
    if (id === undefined) throw new SupabaseStoreError('insert into embeddings', result.status, undefined, 'no id returned', undefined, undefined);
    return String(id);
  }

  async search(
    vector: readonly number[],
    topK: number,
    metadataFilter?: Record<string, unknown>,
  ): Promise<EmbeddingMatch[]> {
    const result = await this.client.rpc('match_embeddings', {
      query_embedding: toVectorLiteral(vector),
      match_count: Math.max(1, Math.trunc(topK)),
      filter: metadataFilter ?? {},
      probes: Math.max(1, Math.trunc(this.options.probes ?? 100)),
    });
    throwIfFailed('rpc match_embeddings', result);
    return ((result.data ?? []) as MatchRow[]).map((row) => ({
      id: String(row.id),
      content: row.content,
      modelId: row.model_id ?? undefined,
      metadata: row.metadata,
      distance: Number(row.distance),
    }));
  }
}
