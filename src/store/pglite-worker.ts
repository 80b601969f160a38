/**
 * The worker thread that owns the embedded PGlite database, started by pglite-thread.ts. PGlite
 * runs its WASM Postgres on the thread that calls it, and a batch write blocks that thread for
 * 3–17 ms, so it runs here and the gateway's event loop keeps serving meanwhile. Each request
 * carries an id and gets one reply with it; rows and errors go back as structured clones.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import type { PgliteReply, PgliteRequest, WireError } from './pglite-thread.js';
import { createPglite, type PgliteLocation } from './pglite-store.js';

if (!parentPort) throw new Error('pglite-worker runs as a worker thread, started by pglite-thread.ts');
const port = parentPort;

function reply(message: PgliteReply): void {
  port.postMessage(message);
}

/** An error as data: its own primitive fields (Postgres's code, detail, constraint, …) kept. */
function toWire(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), fields: {} };
  const fields: WireError['fields'] = {};
  for (const [key, value] of Object.entries(error)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') fields[key] = value;
  }
  return { name: error.name, message: error.message, stack: error.stack, fields };
}

/** Thrown inside PGlite's transaction callback to make it roll back; never leaves this file. */
const ROLLBACK = Symbol('rollback');

interface OpenTransaction {
  session: Transaction;
  end(commit: boolean, replyId: number): void;
}

class DatabaseWorker {
  private readonly transactions = new Map<number, OpenTransaction>();
  private readonly running = new Set<Promise<void>>();
  private nextTransaction = 0;

  constructor(private readonly pglite: PGlite) {}

  receive(request: PgliteRequest): void {
    // `end` is answered from the transaction's own promise, once PGlite has committed or rolled back.
    if (request.op === 'end') return this.end(request.transaction, request.commit, request.id);
    const work = this.handle(request)
      .then(
        (value) => reply({ id: request.id, ok: true, value }),
        (error: unknown) => reply({ id: request.id, ok: false, error: toWire(error) }),
      )
      // A row structured clone cannot copy: the caller gets the DataCloneError.
      .catch((error: unknown) => reply({ id: request.id, ok: false, error: toWire(error) }));
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }

  private async handle(request: Exclude<PgliteRequest, { op: 'end' }>): Promise<unknown> {
    switch (request.op) {
      case 'query': {
        const result = await this.target(request.transaction).query(request.sql, request.params);
        return result.rows;
      }
      case 'exec':
        await this.target(request.transaction).exec(request.sql);
        return undefined;
      case 'begin':
        return this.begin();
      case 'close':
        await Promise.allSettled(this.running);
        await this.pglite.close();
        return undefined;
    }
  }

  private target(transaction: number | undefined): Pick<Transaction, 'query' | 'exec'> {
    if (transaction === undefined) return this.pglite;
    const open = this.transactions.get(transaction);
    if (!open) throw new Error(`transaction ${transaction} has already ended`);
    return open.session;
  }

  /**
   * Opens a PGlite transaction (it waits for the one before it, and queries outside it wait for
   * it: PGlite is one connection) and resolves with its number once BEGIN has run. The callback
   * then holds the transaction open until `end` arrives; the `end` request is answered once
   * COMMIT or ROLLBACK has run, with COMMIT's error if it failed.
   */
  private begin(): Promise<number> {
    const number = this.nextTransaction++;
    return new Promise<number>((opened, failedToOpen) => {
      let endReplyId: number | undefined;
      const settled = this.pglite.transaction(async (session) => {
        const commit = await new Promise<boolean>((end) => {
          this.transactions.set(number, {
            session,
            end: (isCommit, replyId) => {
              endReplyId = replyId;
              end(isCommit);
            },
          });
          opened(number);
        });
        this.transactions.delete(number);
        if (!commit) throw ROLLBACK;
      });
      settled.then(
        () => {
          if (endReplyId !== undefined) reply({ id: endReplyId, ok: true });
        },
        (error: unknown) => {
          this.transactions.delete(number);
          if (endReplyId === undefined) failedToOpen(error);
          else if (error === ROLLBACK) reply({ id: endReplyId, ok: true });
          else reply({ id: endReplyId, ok: false, error: toWire(error) });
        },
      );
    });
  }

  private end(transaction: number, commit: boolean, replyId: number): void {
    const open = this.transactions.get(transaction);
    if (!open) {
      reply({ id: replyId, ok: false, error: toWire(new Error(`transaction ${transaction} has already ended`)) });
      return;
    }
    open.end(commit, replyId);
  }
}

let database: DatabaseWorker | undefined;
try {
  database = new DatabaseWorker(await createPglite(workerData as PgliteLocation));
} catch (error) {
  // Nothing listens afterwards, so the thread ends.
  reply({ type: 'open-failed', error: toWire(error) });
}

if (database) {
  const opened = database;
  port.on('message', (request: PgliteRequest) => opened.receive(request));
  reply({ type: 'opened' });
}
