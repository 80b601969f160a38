import type { LoggedInference, RowSink } from './inference-log.js';
import type { SqlSession } from './sql-database.js';

/** Each column with its SQL type: the batch travels as one array per column (see buildInsert). */
const COLUMNS: ReadonlyArray<readonly [string, string, (row: LoggedInference) => unknown]> = [
  ['request_id', 'text', (row) => row.requestId],
  ['attempt', 'integer', (row) => row.attempt],
  ['model_id', 'text', (row) => row.modelId],
  ['input_text', 'text', (row) => row.inputText],
  ['output', 'text', (row) => row.output],
  ['quality_score', 'real', (row) => row.qualityScore],
  ['cost', 'numeric', (row) => row.costUsd],
  ['latency_ms', 'integer', (row) => row.latencyMs],
  ['routing_reason', 'text', (row) => row.routingReason],
  ['created_at', 'timestamptz', (row) => row.createdAt],
  ['tenant', 'text', (row) => row.tenant],
  ['tier', 'text', (row) => row.tier],
  ['route', 'text', (row) => row.route],
  ['cache_status', 'text', (row) => row.cacheStatus],
  ['prompt_tokens', 'integer', (row) => row.promptTokens],
  ['completion_tokens', 'integer', (row) => row.completionTokens],
  ['escalated_from', 'text', (row) => row.escalatedFrom],
  ['error', 'text', (row) => row.error],
  ['is_estimated', 'boolean', (row) => row.isEstimated ?? false],
  ['outcome', 'text', (row) => row.outcome],
  ['ttft_ms', 'integer', (row) => row.ttftMs],
  ['quality_reasons', 'text', (row) => row.qualityReasons],
  ['cache_entry_id', 'text', (row) => row.cacheEntryId],
];

/** Bounds one statement's size; a batch of the log is smaller (batchMaxRows). */
const MAX_ROWS_PER_STATEMENT = 5000;

/**
 * One statement for any number of rows: `insert … select * from unnest($1::text[], …)`, one array
 * parameter per column. The text is the same for every batch, and the database parses 23
 * parameters instead of 23 per row: measured on PGlite, 59 µs a row against 95 µs for a
 * multi-row VALUES list of 100 rows (34 against 57 at 500 rows).
 */
const INSERT_SQL =
  `insert into model_inferences (${COLUMNS.map(([name]) => name).join(', ')}) ` +
  `select * from unnest(${COLUMNS.map(([, type], index) => `$${index + 1}::${type}[]`).join(', ')}) ` +
  'on conflict (request_id, attempt) do nothing';

/** Writes a batch as one INSERT; a row already there (a replay) is skipped, not duplicated. */
export class SqlRowSink implements RowSink {
  constructor(private readonly session: SqlSession) {}

  async insert(rows: readonly LoggedInference[]): Promise<void> {
    for (let start = 0; start < rows.length; start += MAX_ROWS_PER_STATEMENT) {
      const { sql, params } = buildInsert(rows.slice(start, start + MAX_ROWS_PER_STATEMENT));
      await this.session.query(sql, params);
    }
  }
}

export function buildInsert(rows: readonly LoggedInference[]): { sql: string; params: unknown[][] } {
  const params = COLUMNS.map(([, , read]) =>
    rows.map((row) => {
      const value = read(row);
      return value === undefined ? null : value;
    }),
  );
  return { sql: INSERT_SQL, params };
}
