import { mkdir, open, readFile, rename, stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LoggedInference } from './inference-log.js';

export interface SpillHead {
  rows: LoggedInference[];
  /** Bytes of the file these rows came from, counted from the start: what `dropHead` removes. */
  bytes: number;
  /** Lines that were not a row (a write torn by a crash); they are dropped with the head. */
  corruptLines: number;
}

/**
 * Append-only JSONL of rows the database did not take yet. Each `append` is one write and one fsync;
 * the head is removed only after the caller confirms its rows are in the database. Operations run
 * one at a time, so an append during a replay lands after the replayed head and survives its removal.
 */
export class SpillFile {
  private chain: Promise<unknown> = Promise.resolve();
  private rows = 0;

  private constructor(readonly path: string) {}

  static async open(path: string): Promise<SpillFile> {
    const spill = new SpillFile(path);
    await mkdir(dirname(path), { recursive: true });
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    // A crash mid-write leaves a line without its newline; end it, so the next append starts clean.
    if (text.length > 0 && !text.endsWith('\n')) await spill.writeAndSync('\n');
    spill.rows = text.split('\n').filter((line) => line.trim() !== '').length;
    return spill;
  }

  /** Rows in the file, including those handed to `append` and not yet written. */
  get rowCount(): number {
    return this.rows;
  }

  append(rows: readonly LoggedInference[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    this.rows += rows.length;
    const text = rows.map((row) => JSON.stringify(row)).join('\n') + '\n';
    return this.exclusive(() => this.writeAndSync(text)).catch((error: unknown) => {
      this.rows -= rows.length;
      throw error;
    });
  }

  /** Reads complete lines from the start of the file, about `maxBytes` of them (at least one). */
  readHead(maxBytes: number): Promise<SpillHead> {
    return this.exclusive(async () => {
      const handle = await open(this.path, 'a+');
      try {
        const size = (await handle.stat()).size;
        let want = Math.min(size, maxBytes);
        for (;;) {
          const buffer = Buffer.alloc(want);
          await handle.read(buffer, 0, want, 0);
          const end = want === size ? want : buffer.lastIndexOf(0x0a) + 1;
          if (end > 0 || want === size) return parseLines(buffer.subarray(0, end));
          want = Math.min(size, want * 2);
        }
      } finally {
        await handle.close();
      }
    });
  }

  /** Removes the first `head.bytes` bytes once their rows are confirmed written. */
  dropHead(head: SpillHead): Promise<void> {
    return this.exclusive(async () => {
      const size = (await stat(this.path)).size;
      if (head.bytes >= size) {
        await truncate(this.path, 0);
        await syncPath(this.path);
      } else {
        // Rows appended meanwhile stay: copy the rest to a new file and swap it in atomically.
        const rest = (await readFile(this.path)).subarray(head.bytes);
        const temporary = `${this.path}.tmp`;
        const handle = await open(temporary, 'w');
        try {
          await handle.writeFile(rest);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temporary, this.path);
        await syncPath(dirname(this.path));
      }
      this.rows = Math.max(0, this.rows - head.rows.length - head.corruptLines);
    });
  }

  private async writeAndSync(text: string): Promise<void> {
    const handle = await open(this.path, 'a');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.chain.then(work);
    this.chain = result.catch(() => undefined);
    return result;
  }
}

function parseLines(buffer: Buffer): SpillHead {
  const rows: LoggedInference[] = [];
  let corruptLines = 0;
  for (const line of buffer.toString('utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      rows.push(JSON.parse(line) as LoggedInference);
    } catch {
      corruptLines += 1; // a torn write from a crash: that row was never acknowledged as spilled
    }
  }
  return { rows, bytes: buffer.length, corruptLines };
}

async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
