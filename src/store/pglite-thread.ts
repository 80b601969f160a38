import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { siblingEntry, startWorker } from '../../adapters/shared/worker-entry.js';
import { migratedOrClosed } from './migrate.js';
import type { PgliteLocation } from './pglite-store.js';
import type { SqlDatabase, SqlSession } from './sql-database.js';

/** What this thread asks pglite-worker.ts; each request gets exactly one reply with its id. */
export type PgliteRequest =
  /** `transaction`: the number `begin` answered; absent, the query waits for any open transaction. */
  | { id: number; op: 'query'; sql: string; params: unknown[]; transaction?: number }
  | { id: number; op: 'exec'; sql: string; transaction?: number }
  /** Answered with the transaction's number once BEGIN has run. */
  | { id: number; op: 'begin' }
  /** Answered once COMMIT (`commit`) or ROLLBACK has run. */
  | { id: number; op: 'end'; transaction: number; commit: boolean }
  | { id: number; op: 'close' };

/** An error as data: structured clone keeps an Error's message but drops Postgres's fields. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  /** The error's own primitive fields: code (SQLSTATE), severity, detail, constraint, … */
  fields: Record<string, string | number | boolean>;
}

export type PgliteReply =
  | { type: 'opened' }
  | { type: 'open-failed'; error: WireError }
  | { id: number; ok: true; value?: unknown }
  | { id: number; ok: false; error: WireError };

type Request = PgliteRequest extends infer Each ? (Each extends unknown ? Omit<Each, 'id'> : never) : never;

/** The worker is gone (crashed, killed or closed): the call was not, or not known to be, done. */
export class DatabaseThreadStoppedError extends Error {
  override readonly name = 'DatabaseThreadStoppedError';
}

const framesOf = (stack: string | undefined) => stack?.split('\n').slice(1).join('\n') ?? '';

/** PGlite's error rebuilt here: its message, name and fields; the caller's stack, the worker's below it. */
function fromWire(wire: WireError, callerStack: string | undefined): Error {
  const error = Object.assign(new Error(wire.message), wire.fields);
  error.name = wire.name;
  error.stack = `${wire.name}: ${wire.message}\n${framesOf(callerStack)}\n    in the PGlite worker thread:\n${framesOf(wire.stack)}`;
  return error;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** Where the call was made (the worker's reply arrives on a stack of its own). */
  callerStack: string | undefined;
}

/** One worker's lifetime: opens PGlite, forwards calls by id, and fails them all if it exits. */
class PgliteThread {
  readonly opened: Promise<void>;
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private settleOpen!: { resolve(): void; reject(error: Error): void };
  /** Set once calls can no longer be answered; new calls are refused with it. */
  private stopped: Error | undefined;
  /** When the worker exited without being closed (performance.now()); undefined while it runs. */
  crashedAt: number | undefined;
  /** The worker's uncaught exception, reported just before it exits. */
  private crash: Error | undefined;
  private closing: Promise<void> | undefined;

  constructor(location: PgliteLocation) {
    this.opened = new Promise((resolve, reject) => (this.settleOpen = { resolve, reject }));
    this.worker = startWorker(siblingEntry(import.meta.url, 'pglite-worker'), location, { name: 'sluice-pglite' });
    this.worker.on('message', (reply: PgliteReply) => this.receive(reply));
    this.worker.on('error', (error) => (this.crash = error));
    this.worker.on('exit', (code) => this.exited(code));
  }

  call(request: Request): Promise<unknown> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    const caller: { stack?: string } = {};
    Error.captureStackTrace(caller, this.call);
    return new Promise((resolve, reject) => {
      try {
        this.worker.postMessage({ ...request, id });
      } catch (error) {
        reject(error as Error); // DataCloneError: a parameter structured clone cannot copy
        return;
      }
      this.pending.set(id, { resolve, reject, callerStack: caller.stack });
      // Held only while it works: an idle database keeps the process alive no more than before.
      this.worker.ref();
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.stopped) return;
      const closed = this.call({ op: 'close' });
      this.stopped = new DatabaseThreadStoppedError('the PGlite database is closed');
      try {
        await closed;
      } finally {
        await this.worker.terminate();
      }
    })();
    return this.closing;
  }

  /** Ends the worker now, as a crash would. */
  async kill(): Promise<void> {
    await this.worker.terminate();
  }

  private receive(reply: PgliteReply): void {
    if ('type' in reply) {
      if (reply.type === 'opened') this.settleOpen.resolve();
      else {
        this.crash = fromWire(reply.error, undefined);
        this.settleOpen.reject(this.crash);
      }
    } else {
      const pending = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.ok) pending?.resolve(reply.value);
      else pending?.reject(fromWire(reply.error, pending.callerStack));
    }
    if (this.pending.size === 0) this.worker.unref();
  }

  private exited(code: number): void {
    const cause = this.crash ? `: ${this.crash.message}` : ` (exit code ${code})`;
    const reason =
      this.stopped ??
      new DatabaseThreadStoppedError(`the PGlite worker thread stopped${cause}; the embedded database is unavailable`, { cause: this.crash });
    if (!this.stopped) this.crashedAt = performance.now();
    this.stopped = reason;
    this.settleOpen.reject(reason); // a no-op once opened
    for (const pending of this.pending.values()) pending.reject(reason);
    this.pending.clear();
  }
}

/**
 * The thread calls go to. After a crash, with the data on disk, the next call past
 * `restartAfterMs` starts a fresh worker (Postgres recovers from its WAL; the files are migrated
 * already) so the log's probe finds the database back; calls before that reject at once, so a
 * worker that dies at open is not restarted in a loop. In memory, the data died with the worker.
 */
class Threads {
  private thread: PgliteThread;
  private restarting: Promise<PgliteThread> | undefined;
  private isClosed = false;

  constructor(
    private readonly location: PgliteLocation,
    private readonly restartAfterMs: number,
  ) {
    this.thread = new PgliteThread(location);
  }

  get opened(): Promise<void> {
    return this.thread.opened;
  }

  current(): PgliteThread | Promise<PgliteThread> {
    const { crashedAt } = this.thread;
    if (crashedAt === undefined || this.isClosed || !('dataDir' in this.location)) return this.thread;
    if (this.restarting) return this.restarting;
    if (performance.now() - crashedAt < this.restartAfterMs) return this.thread;
    const next = new PgliteThread(this.location);
    // If it fails to open, calls sent to it are refused with the reason, and it is the crashed one now.
    this.restarting = next.opened
      .catch(() => {})
      .then(() => {
        this.thread = next;
        this.restarting = undefined;
        return next;
      });
    return this.restarting;
  }

  async close(): Promise<void> {
    this.isClosed = true;
    await this.restarting;
    await this.thread.close();
  }

  async kill(): Promise<void> {
    await (await this.current()).kill();
  }
}

export interface PgliteThreadDatabase extends SqlDatabase {
  /** Ends the worker at once, as a crash would: pending calls reject (fault tests). */
  kill(): Promise<void>;
}

export interface PgliteThreadOptions {
  /** After a crash, how long calls are refused before one starts a fresh worker (data on disk only). Default 5 s. */
  restartAfterMs?: number;
}

/**
 * The embedded default, PGlite with pgvector, on a worker thread so its WASM Postgres never
 * blocks the caller's event loop; migrated at open, as openPgliteDatabase is. Rows and
 * parameters cross by structured clone (Date, jsonb objects, arrays, numeric strings as they
 * are). A transaction holds the one connection: other queries wait for it, as in PGlite. If the
 * worker dies, every pending call rejects with DatabaseThreadStoppedError, and so do later ones
 * until a fresh worker is started (see Threads).
 */
export async function openPgliteThreadDatabase(location: PgliteLocation, options: PgliteThreadOptions = {}): Promise<PgliteThreadDatabase> {
  const threads = new Threads(location, options.restartAfterMs ?? 5_000);
  await threads.opened;
  const call = (request: Request) => {
    const thread = threads.current();
    // Sent at once while the worker is up, so the caller's stack is the one captured for errors.
    return thread instanceof PgliteThread ? thread.call(request) : thread.then((restarted) => restarted.call(request));
  };
  const session = (thread: PgliteThread | undefined, transaction?: number): SqlSession => ({
    // A transaction's statements go to the thread that began it, alive or not.
    async query<T>(sql: string, params: readonly unknown[] = []) {
      const request: Request = { op: 'query', sql, params: [...params], transaction };
      return { rows: (await (thread ? thread.call(request) : call(request))) as T[] };
    },
    async exec(sql: string) {
      const request: Request = { op: 'exec', sql, transaction };
      await (thread ? thread.call(request) : call(request));
    },
  });
  const database: PgliteThreadDatabase = {
    backend: 'pglite',
    ...session(undefined),
    async transaction(work) {
      const thread = await threads.current();
      const transaction = (await thread.call({ op: 'begin' })) as number;
      let result: Awaited<ReturnType<typeof work>>;
      try {
        result = await work(session(thread, transaction));
      } catch (error) {
        await thread.call({ op: 'end', transaction, commit: false });
        throw error;
      }
      await thread.call({ op: 'end', transaction, commit: true });
      return result;
    },
    close: () => threads.close(),
    kill: () => threads.kill(),
  };
  return migratedOrClosed(database);
}
