import { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import {
  toLoggedInference,
  type InferenceLog,
  type InferenceLogEvents,
  type InferenceRow,
  type LoggedInference,
  type RowSink,
  type TextLogMode,
} from './inference-log.js';
import { RowJournal } from './row-journal.js';
import { SpillFile } from './spill-file.js';

export interface BatchedInferenceLogOptions {
  sink: RowSink;
  /** Append-only JSONL under the data dir, e.g. `${SLUICE_DATA_DIR}/inference-log.spill.jsonl`. */
  spillPath: string;
  textMode?: TextLogMode; // default full
  batchMaxRows?: number; // M: a full batch is written at once; default 500
  flushIntervalMs?: number; // N: a partial batch waits at most this long; default 1000
  maxQueueRows?: number; // past this, the queue goes to the spill file; default 10 000
  retry?: { attempts?: number; initialDelayMs?: number; maxDelayMs?: number }; // 4, 100, 5000
  spillReadBytes?: number; // replay reads the spill file this much at a time; default 1 MiB
}

type PumpMode = 'full-batches' | 'everything';

/**
 * bounded queue → batched inserts → retry with backoff → spill to disk → replay; every queued row
 * also journalled (row-journal.ts), so a process killed before its insert leaves it to the next start.
 *
 * One pump runs at a time (a promise chain), so batches reach the sink in append order. Rows go
 * to the spill file from the head of the queue only, and the queue is written only while the spill
 * file is empty, so the database sees rows in append order even across an outage. Once a batch has
 * exhausted its retries the log is "degraded": every queued row is spilled on each tick, and the
 * sink is probed by replaying the spill head, at most once per backoff delay (doubling to the max).
 */
export class BatchedInferenceLog extends EventEmitter<InferenceLogEvents> implements InferenceLog {
  private readonly queue: LoggedInference[] = [];
  private readonly options: Required<Omit<BatchedInferenceLogOptions, 'retry' | 'textMode'>> & {
    textMode: TextLogMode;
    retry: { attempts: number; initialDelayMs: number; maxDelayMs: number };
  };
  private chain: Promise<void> = Promise.resolve();
  private queuedPumps = 0;
  private isDegraded = false;
  private probeDelayMs: number;
  private nextProbeAt = 0;
  private isClosed = false;
  private readonly timer: NodeJS.Timeout;
  private written = 0;
  /** Each queued row's number in the journal; rows out of the queue but not yet safe: being inserted, being spilled. */
  private readonly journalSeq = new WeakMap<LoggedInference, number>();
  private inFlight: readonly LoggedInference[] = [];
  private readonly spilling = new Set<readonly LoggedInference[]>();
  private readonly onJournalError = (error: unknown) => this.emit('spillError', error);

  private constructor(
    options: BatchedInferenceLogOptions,
    private readonly spill: SpillFile,
    private readonly journal: RowJournal,
  ) {
    super();
    this.options = {
      sink: options.sink,
      spillPath: options.spillPath,
      textMode: options.textMode ?? { kind: 'full' },
      batchMaxRows: options.batchMaxRows ?? 500,
      flushIntervalMs: options.flushIntervalMs ?? 1000,
      maxQueueRows: options.maxQueueRows ?? 10_000,
      spillReadBytes: options.spillReadBytes ?? 1024 * 1024,
      retry: {
        attempts: options.retry?.attempts ?? 4,
        initialDelayMs: options.retry?.initialDelayMs ?? 100,
        maxDelayMs: options.retry?.maxDelayMs ?? 5000,
      },
    };
    this.probeDelayMs = this.options.retry.initialDelayMs;
    this.timer = setInterval(() => this.schedule('everything'), this.options.flushIntervalMs);
    this.timer.unref();
  }

  /** Opens the spill file and starts replaying what a previous run left in it. */
  static async open(options: BatchedInferenceLogOptions): Promise<BatchedInferenceLog> {
    const spill = await SpillFile.open(options.spillPath);
    // Rows a killed process had accepted and not yet written: into the spill file, then replayed.
    const { journal, recovered, discardRecovered } = RowJournal.open(`${options.spillPath}.journal`);
    await spill.append(recovered);
    discardRecovered();
    const log = new BatchedInferenceLog(options, spill, journal);
    if (log.spill.rowCount > 0) log.schedule('everything');
    return log;
  }

  append(row: InferenceRow): void {
    if (this.isClosed) {
      this.emit('dropped', { rows: 1, reason: 'closed' });
      return;
    }
    let logged: LoggedInference;
    try {
      logged = toLoggedInference(row, this.options.textMode);
    } catch (error) {
      this.emit('dropped', { rows: 1, reason: String(error) });
      return;
    }
    this.queue.push(logged);
    try {
      // A disk that refuses the journal: the row stays queued, in memory only.
      this.journalSeq.set(logged, this.journal.write(logged, this.onJournalError));
    } catch (error) {
      this.onJournalError(error);
    }
    if (this.queue.length > this.options.maxQueueRows) this.spillQueue();
    else if (this.queue.length >= this.options.batchMaxRows) this.schedule('full-batches');
  }

  async flush(): Promise<void> {
    await this.schedule('everything', { isForced: true });
  }

  async close(): Promise<void> {
    if (this.isClosed) return this.chain;
    clearInterval(this.timer);
    // A flush writes what was queued when it began; rows appended meanwhile get one more pass or two.
    await this.flush();
    for (let pass = 0; pass < 2 && this.queue.length > 0 && !this.isDegraded; pass += 1) await this.flush();
    this.isClosed = true;
    if (this.queue.length === 0) this.journal.close();
  }

  /** Rows not yet confirmed in the database: queued in memory and waiting in the spill file. */
  get pending(): { queued: number; spilled: number; written: number } {
    return { queued: this.queue.length, spilled: this.spill.rowCount, written: this.written };
  }

  private schedule(mode: PumpMode, { isForced = false } = {}): Promise<void> {
    // Ticks and full batches need not pile up behind a slow sink: one waiting pump does them all.
    if (!isForced && this.queuedPumps > 0) return this.chain;
    this.queuedPumps += 1;
    this.chain = this.chain.then(async () => {
      this.queuedPumps -= 1;
      try {
        await this.pump(mode, isForced);
      } catch (error) {
        // Only the spill file itself failing lands here; the rows are back in the queue.
        this.emit('spillError', error);
      }
    });
    return this.chain;
  }

  private async pump(mode: PumpMode, isForced: boolean): Promise<void> {
    if (this.isDegraded) {
      await this.moveQueueToSpill();
      if (!isForced && Date.now() < this.nextProbeAt) return;
      if (!(await this.replaySpill())) return this.markProbeFailed();
      this.isDegraded = false;
      this.probeDelayMs = this.options.retry.initialDelayMs;
    }
    // 'everything' owes the rows queued when it began; rows that arrive while it writes wait for a
    // full batch or the next tick, or a busy gateway would write a small batch after every insert.
    let owedRows = mode === 'everything' ? this.queue.length : 0;
    for (;;) {
      if (this.spill.rowCount > 0 && !(await this.replaySpill())) {
        await this.enterDegraded();
        return;
      }
      const isBatchDue = Math.min(owedRows, this.queue.length) > 0 || this.queue.length >= this.options.batchMaxRows;
      if (!isBatchDue) return;
      const batch = this.queue.splice(0, batchEnd(this.queue, 0, this.options.batchMaxRows));
      owedRows -= batch.length;
      this.inFlight = batch;
      const isInserted = await this.insertWithRetry(batch);
      this.inFlight = [];
      if (!isInserted) {
        this.queue.unshift(...batch);
        await this.enterDegraded();
        return;
      }
      this.written += batch.length;
      this.releaseJournal();
      this.emit('flushed', { rows: batch.length, source: 'queue' });
    }
  }

  private async insertWithRetry(batch: readonly LoggedInference[]): Promise<boolean> {
    const { attempts, initialDelayMs, maxDelayMs } = this.options.retry;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.options.sink.insert(batch);
        return true;
      } catch (error) {
        this.emit('sinkError', { error, attempt });
        if (attempt >= attempts) return false;
        await delay(Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1)));
      }
    }
  }

  /** Replays the whole spill file, head by head; false (file kept from the failed head on) if the sink fails. */
  private async replaySpill(): Promise<boolean> {
    while (this.spill.rowCount > 0) {
      const head = await this.spill.readHead(this.options.spillReadBytes);
      if (head.bytes === 0) return true;
      for (let start = 0; start < head.rows.length; ) {
        const end = batchEnd(head.rows, start, this.options.batchMaxRows);
        const batch = head.rows.slice(start, end);
        start = end;
        try {
          await this.options.sink.insert(batch);
        } catch (error) {
          // Batches of this head already written are written again next time: "on conflict do nothing".
          this.emit('sinkError', { error, attempt: 1 });
          return false;
        }
      }
      await this.spill.dropHead(head);
      this.written += head.rows.length;
      if (head.rows.length > 0) this.emit('flushed', { rows: head.rows.length, source: 'spill' });
    }
    return true;
  }

  private async enterDegraded(): Promise<void> {
    this.isDegraded = true;
    this.markProbeFailed();
    await this.moveQueueToSpill();
  }

  private markProbeFailed(): void {
    this.nextProbeAt = Date.now() + this.probeDelayMs;
    this.probeDelayMs = Math.min(this.options.retry.maxDelayMs, this.probeDelayMs * 2);
  }

  /** From append, when the queue passes its bound: the head of the queue goes to disk now. */
  private spillQueue(): void {
    this.moveQueueToSpill().catch((error: unknown) => this.emit('spillError', error));
  }

  private async moveQueueToSpill(): Promise<void> {
    if (this.queue.length === 0) return;
    const rows = this.queue.splice(0, this.queue.length);
    this.spilling.add(rows);
    try {
      await this.spill.append(rows);
    } catch (error) {
      this.queue.unshift(...rows); // still accepted: kept in memory until the disk takes them
      this.spilling.delete(rows);
      throw error;
    }
    this.spilling.delete(rows);
    this.releaseJournal();
    this.emit('spilled', { rows: rows.length });
  }

  /**
   * The journal keeps what is still only in memory: from the oldest such row on. Sequence numbers
   * rise along the queue (a failed batch goes back to its front), so the oldest is the first
   * journalled row of the batch in flight, of the rows being spilled or of the queue; a row the
   * disk refused has none.
   */
  private releaseJournal(): void {
    const firstSeq = (rows: readonly LoggedInference[]) => {
      for (const row of rows) {
        const seq = this.journalSeq.get(row);
        if (seq !== undefined) return seq;
      }
      return Number.POSITIVE_INFINITY;
    };
    const oldest = Math.min(firstSeq(this.inFlight), ...[...this.spilling].map(firstSeq), firstSeq(this.queue));
    try {
      this.journal.release(oldest);
    } catch (error) {
      this.emit('spillError', error);
    }
  }
}

/**
 * Where the batch of about `maxRows` from `start` ends: never between two attempts of one request
 * (the log appends them together), so the rollup triggers see each request's attempts in one
 * insert and mark its last one right (migration 006).
 */
function batchEnd(rows: readonly LoggedInference[], start: number, maxRows: number): number {
  let end = Math.min(start + maxRows, rows.length);
  while (end < rows.length && rows[end]!.requestId === rows[end - 1]!.requestId) end += 1;
  return end;
}
