import type { LoggedInference, RowSink } from '../../../src/store/inference-log.js';

/**
 * The database boundary under the log's control: it keeps rows by (requestId, attempt) like the
 * unique index does, and fails while `isDown` or for the next `failNext` calls.
 */
export class ControllableSink implements RowSink {
  readonly rows = new Map<string, LoggedInference>();
  readonly order: string[] = [];
  readonly batchSizes: number[] = [];
  isDown = false;
  failNext = 0;
  calls = 0;

  async insert(rows: readonly LoggedInference[]): Promise<void> {
    this.calls += 1;
    if (this.isDown) throw new Error('sink down');
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('sink failed once');
    }
    this.batchSizes.push(rows.length);
    for (const row of rows) {
      const key = `${row.requestId}#${row.attempt}`;
      if (this.rows.has(key)) continue;
      this.rows.set(key, row);
      this.order.push(row.requestId);
    }
  }
}
