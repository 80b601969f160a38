import { createHash } from 'node:crypto';

/**
 * One attempt of one request, as the pipeline hands it to the log. Field → column:
 * requestId → request_id, attempt → attempt, modelId → model_id, inputText → input_text,
 * output → output, qualityScore → quality_score, costUsd → cost, latencyMs → latency_ms,
 * routingReason → routing_reason, createdAt → created_at, tenant, tier, route,
 * cacheStatus → cache_status, promptTokens → prompt_tokens, completionTokens → completion_tokens,
 * escalatedFrom → escalated_from, error, isEstimated → is_estimated, outcome, ttftMs → ttft_ms,
 * qualityReasons → quality_reasons (003_attempt_outcome.sql), cacheEntryId → cache_entry_id (004).
 * `undefined` means unknown and is stored as null, never as zero.
 */
export interface InferenceRow {
  requestId: string;
  /** 1 for the first candidate tried; (requestId, attempt) is unique, so a replay never duplicates. */
  attempt?: number;
  modelId?: string;
  inputText?: string;
  output?: string;
  qualityScore?: number;
  costUsd?: number;
  latencyMs?: number;
  routingReason?: string;
  /** Defaults to the moment of `append`, so a row replayed later keeps its real time. */
  createdAt?: Date;
  tenant?: string;
  tier?: string;
  route?: string;
  cacheStatus?: string;
  promptTokens?: number;
  completionTokens?: number;
  /** The model tried before this attempt, which failed or was escalated. */
  escalatedFrom?: string;
  error?: string;
  isEstimated?: boolean;
  /** answered, failed, escalated, abandoned or cache-hit (pipeline/attempt.ts). */
  outcome?: string;
  /** From this attempt's start to its first token. */
  ttftMs?: number;
  /** The quality checks the answer failed, comma-separated; empty when it passed them all. */
  qualityReasons?: string;
  /** A cache hit: the request id whose answer it served. */
  cacheEntryId?: string;
}

/** A row as queued, spilled and inserted: privacy mode applied, types made safe for the columns. */
export interface LoggedInference extends Omit<InferenceRow, 'createdAt' | 'attempt'> {
  attempt: number;
  createdAt: string; // ISO 8601, survives the JSONL spill file unchanged
}

export type TextLogMode =
  | { kind: 'full' }
  | { kind: 'truncated'; maxChars: number }
  | { kind: 'hashed' } // "sha256:<hex>"
  | { kind: 'off' };

export interface FlushedEvent {
  rows: number;
  source: 'queue' | 'spill';
}
export interface SpilledEvent {
  rows: number;
}

/** What the log emits; tests wait on these instead of sleeping. */
export interface InferenceLogEvents {
  flushed: [FlushedEvent]; // rows confirmed in the database
  spilled: [SpilledEvent]; // rows fsync'd to the spill file
  dropped: [{ rows: number; reason: string }]; // appended after close
  sinkError: [{ error: unknown; attempt: number }]; // a failed insert; retried, then spilled
  spillError: [unknown]; // the spill file could not be written; rows stay in memory
}

export interface InferenceLog {
  append(row: InferenceRow): void; // synchronous, never throws: enqueue and return
  flush(): Promise<void>; // shutdown and tests: everything appended so far is written or spilled
  close(): Promise<void>; // flush, then stop; later appends are dropped ('dropped' event)
  /** Rows waiting in memory and on disk, and rows written since start: the backlog metric. */
  readonly pending: { queued: number; spilled: number; written: number };
  on<K extends keyof InferenceLogEvents>(event: K, listener: (...args: InferenceLogEvents[K]) => void): this;
  once<K extends keyof InferenceLogEvents>(event: K, listener: (...args: InferenceLogEvents[K]) => void): this;
  off<K extends keyof InferenceLogEvents>(event: K, listener: (...args: InferenceLogEvents[K]) => void): this;
}

/** The database boundary: one call = one multi-row insert that ignores (requestId, attempt) conflicts. */
export interface RowSink {
  insert(rows: readonly LoggedInference[]): Promise<void>;
}

export function applyTextMode(text: string | undefined, mode: TextLogMode): string | undefined {
  if (text === undefined) return undefined;
  switch (mode.kind) {
    case 'full':
      return text;
    case 'off':
      return undefined;
    case 'hashed':
      return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
    case 'truncated':
      return truncateChars(text, mode.maxChars);
  }
}

/** Cuts at a code-point boundary, so a truncated emoji never becomes a lone surrogate. */
function truncateChars(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const cut = text.slice(0, Math.max(0, maxChars));
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/**
 * Makes a row that the database cannot refuse: one bad value would otherwise fail its whole batch
 * on every retry and replay. Postgres text rejects NUL; integer columns reject fractions;
 * numeric(12,8) rejects |cost| ≥ 10⁴; non-finite numbers fit nowhere.
 */
export function toLoggedInference(row: InferenceRow, mode: TextLogMode, now: Date = new Date()): LoggedInference {
  return {
    requestId: cleanText(row.requestId) ?? '',
    attempt: integerOrUndefined(row.attempt) ?? 1,
    modelId: cleanText(row.modelId),
    inputText: cleanText(applyTextMode(row.inputText, mode)),
    output: cleanText(applyTextMode(row.output, mode)),
    qualityScore: finiteOrUndefined(row.qualityScore),
    costUsd: costOrUndefined(row.costUsd),
    latencyMs: integerOrUndefined(row.latencyMs),
    routingReason: cleanText(row.routingReason),
    createdAt: validDate(row.createdAt) ?? now.toISOString(),
    tenant: cleanText(row.tenant),
    tier: cleanText(row.tier),
    route: cleanText(row.route),
    cacheStatus: cleanText(row.cacheStatus),
    promptTokens: integerOrUndefined(row.promptTokens),
    completionTokens: integerOrUndefined(row.completionTokens),
    escalatedFrom: cleanText(row.escalatedFrom),
    error: cleanText(row.error),
    isEstimated: row.isEstimated === true,
    outcome: cleanText(row.outcome),
    ttftMs: integerOrUndefined(row.ttftMs),
    qualityReasons: cleanText(row.qualityReasons),
    cacheEntryId: cleanText(row.cacheEntryId),
  };
}

const INT32_MAX = 2_147_483_647;

function cleanText(text: string | undefined): string | undefined {
  return typeof text === 'string' ? text.replaceAll('\u0000', '') : undefined;
}
function finiteOrUndefined(value: number | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
function integerOrUndefined(value: number | undefined): number | undefined {
  const finite = finiteOrUndefined(value);
  return finite === undefined ? undefined : Math.max(-INT32_MAX, Math.min(INT32_MAX, Math.round(finite)));
}
function costOrUndefined(value: number | undefined): number | undefined {
  const finite = finiteOrUndefined(value);
  return finite !== undefined && Math.abs(finite) < 10_000 ? finite : undefined;
}
function validDate(value: Date | undefined): string | undefined {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : undefined;
}
