import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { LoggedInference } from './inference-log.js';

/**
 * Every row the log accepted and has not yet handed to the database or the spill file, on disk:
 * the rows of one event-loop turn in one synchronous write (no fsync) as the turn ends — not one
 * write per row on the request path —, so a process killed with SIGKILL — an OOM kill, a
 * crashed pod — leaves its queued rows to the next start on the same data dir, which moves them
 * into the spill file and replays them ("on conflict do nothing" makes rows already written
 * harmless). A machine that loses power can still lose the last rows; the spill file fsyncs.
 *
 * Segments `<path>.<n>`: appends go to the newest; `release(seq)` starts a new one and deletes
 * every older segment whose rows are all below `seq`, the oldest row still only in memory.
 */
export class RowJournal {
  private readonly segments: { path: string; lastSeq: number }[] = [];
  private fd: number | undefined;
  private current: { path: string; lastSeq: number } | undefined;
  private nextSeq = 0;
  private nextSegment = 0;
  /** Lines of this turn, written together by `writePending` (setImmediate) or before a segment ends. */
  private pending: string[] = [];
  private isWriteScheduled = false;

  private constructor(private readonly path: string) {}

  /** Opens the journal and returns the rows a previous process left in it (it keeps their files until `discardRecovered`). */
  static open(path: string): { journal: RowJournal; recovered: LoggedInference[]; discardRecovered(): void } {
    mkdirSync(dirname(path), { recursive: true });
    const prefix = `${basename(path)}.`;
    const leftOver = readdirSync(dirname(path))
      .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
      .map((name) => join(dirname(path), name));
    const recovered: LoggedInference[] = [];
    for (const file of leftOver) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        try {
          recovered.push(JSON.parse(line) as LoggedInference);
        } catch {
          // A write torn by the kill: that row's request was still being answered.
        }
      }
    }
    const journal = new RowJournal(path);
    journal.nextSegment = leftOver.reduce((highest, file) => Math.max(highest, Number(file.slice(path.length + 1)) + 1), 0);
    return { journal, recovered, discardRecovered: () => leftOver.forEach((file) => rmSync(file, { force: true })) };
  }

  /**
   * Journals the row as this event-loop turn ends; returns its sequence number. A disk that refuses
   * is reported to `onError` (the row stays queued in memory, as before the journal).
   */
  write(row: LoggedInference, onError: (error: unknown) => void = () => {}): number {
    if (this.fd === undefined) this.startSegment();
    const seq = this.nextSeq++;
    this.pending.push(`${JSON.stringify(row)}\n`);
    this.current!.lastSeq = seq;
    if (!this.isWriteScheduled) {
      this.isWriteScheduled = true;
      setImmediate(() => {
        try {
          this.writePending();
        } catch (error) {
          onError(error);
        }
      });
    }
    return seq;
  }

  /** Every row numbered below `oldestPending` is in the database or the spill file. */
  release(oldestPending: number): void {
    if (this.current) this.endSegment();
    while (this.segments.length > 0 && this.segments[0].lastSeq < oldestPending) {
      rmSync(this.segments.shift()!.path, { force: true });
    }
  }

  /** Everything is written: no segment is needed any more. */
  close(): void {
    if (this.current) this.endSegment();
    this.release(Number.POSITIVE_INFINITY);
  }

  private startSegment(): void {
    this.current = { path: `${this.path}.${this.nextSegment++}`, lastSeq: -1 };
    this.fd = openSync(this.current.path, 'a');
  }

  private writePending(): void {
    this.isWriteScheduled = false;
    if (this.pending.length === 0 || this.fd === undefined) return;
    const lines = this.pending.join('');
    this.pending = [];
    writeSync(this.fd, lines);
  }

  private endSegment(): void {
    this.writePending();
    closeSync(this.fd!);
    this.segments.push(this.current!);
    this.fd = undefined;
    this.current = undefined;
  }
}
