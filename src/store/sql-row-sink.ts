import type { LoggedInference, RowSink } from './inference-log.js';
import type { SqlSession } from './sql-database.js';

const COLUMNS: ReadonlyArray<readonly [string, (row: LoggedInference) => unknown]> = [
  ['request_id', (row) => row.requestId],
  ['attempt', (row) => row.attempt],
  ['model_id', (row) => row.modelId],
  ['input_text', (row) => row.inputText],
  ['output', (row) => row.output],
  ['quality_score', (row) => row.qualityScore],
  ['cost', (row) => row.costUsd],
  ['latency_ms', (row) => row.latencyMs],
  ['routing_reason', (row) => row.routingReason],
  ['created_at', (row) => row.createdAt],
  ['tenant', (row) => row.tenant],
  ['tier', (row) => row.tier],
  ['route', (row) => row.route],
  ['cache_status', (row) => row.cacheStatus],
  ['prompt_tokens', (row) => row.promptTokens],
  ['completion_tokens', (row) => row.completionTokens],
  ['escalated_from', (row) => row.escalatedFrom],
  ['error', (row) => row.error],
  ['is_estimated', (row) => row.isEstimated ?? false],
  ['outcome', (row) => row.outcome],
  ['ttft_ms', (row) => row.ttftMs],
  ['quality_reasons', (row) => row.qualityReasons],
  ['cache_entry_id', (row) => row.cacheEntryId],
];

// Postgres allows 65 535 bind parameters per statement.
const MAX_ROWS_PER_STATEMENT = Math.floor(65_535 / COLUMNS.length);

/** Writes a batch as one multi-row INSERT; a row already there (a replay) is skipped, not duplicated. */
export class SqlRowSink implements RowSink {
  constructor(private readonly session: SqlSession) {}

  async insert(rows: readonly LoggedInference[]): Promise<void> {
    for (let start = 0; start < rows.length; start += MAX_ROWS_PER_STATEMENT) {
      const chunk = rows.slice(start, start + MAX_ROWS_PER_STATEMENT);
      const { sql, params } = buildInsert(chunk);
      await this.session.query(sql, params);
    }
  }
}

export function buildInsert(rows: readonly LoggedInference[]): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const tuples = rows.map((row) => {
    const placeholders = COLUMNS.map(([, read]) => {
      const value = read(row);
      params.push(value === undefined ? null : value);
      return `$${params.length}`;
    });
    return `(${placeholders.join(', ')})`;
  });
  const sql =
    `insert into model_inferences (${COLUMNS.map(([name]) => name).join(', ')}) values ` +
    `${tuples.join(', ')} on conflict (request_id, attempt) do nothing`;
  return { sql, params };
}
