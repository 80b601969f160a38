import type { Worker } from 'node:worker_threads';
import { startWorker } from '../shared/worker-entry.js';
import { SluiceError } from '../spec/index.js';
import type { LoadReply } from './worker-protocol.js';

// Shared with the store's PGlite thread; re-exported so this adapter's modules import it from here.
export { siblingEntry } from '../shared/worker-entry.js';

interface InFlight<Reply> {
  resolve(reply: Reply): void;
  reject(error: unknown): void;
}

/**
 * One worker's lifetime: it loads, answers calls (each reply carries its call's id), and when it
 * exits fails whatever it held with `upstream-unavailable`. Its owner starts a fresh one for the
 * next call (`hasExited`). `what` names it in errors ("the embedding worker stopped: …").
 */
export class WorkerThread<Info, Message extends object, Reply extends { id: number }> {
  readonly loaded: Promise<Info>;
  hasExited = false;
  private readonly worker: Worker;
  private readonly inFlight = new Map<number, InFlight<Reply>>();
  private nextId = 0;
  private settleLoad!: { resolve(info: Info): void; reject(error: unknown): void };
  /** The worker's uncaught exception, reported just before it exits. */
  private crash: Error | undefined;
  private isStopping = false;

  constructor(
    entry: URL,
    workerData: unknown,
    private readonly what: string,
  ) {
    this.loaded = new Promise((resolve, reject) => (this.settleLoad = { resolve, reject }));
    this.worker = startWorker(entry, workerData);
    this.worker.on('message', (reply: LoadReply<Info> | Reply) => this.receive(reply));
    this.worker.on('error', (error) => (this.crash = error));
    this.worker.on('exit', (code) => this.exited(code));
  }

  /** Posts `message` with a fresh id; resolves with the worker's reply to it. */
  call(message: Message, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.hasExited) return Promise.reject(new SluiceError('upstream-unavailable', `the ${this.what} has stopped`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.inFlight.set(id, { resolve, reject });
      // Held only while it works: an idle model keeps the process alive no more than before.
      this.worker.ref();
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  async stop(): Promise<void> {
    this.isStopping = true;
    await this.worker.terminate();
  }

  private receive(reply: LoadReply<Info> | Reply): void {
    if ('type' in reply && reply.type === 'loaded') {
      this.settleLoad.resolve(reply.info as Info);
    } else if ('type' in reply && reply.type === 'load-failed') {
      this.settleLoad.reject(new Error(reply.message));
    } else {
      const { id } = reply as Reply;
      this.inFlight.get(id)?.resolve(reply as Reply);
      this.inFlight.delete(id);
    }
    if (this.inFlight.size === 0) this.worker.unref();
  }

  private exited(code: number): void {
    this.hasExited = true;
    const reason = this.isStopping
      ? new SluiceError('upstream-unavailable', 'the embedding model is shutting down')
      : new SluiceError('upstream-unavailable', `the ${this.what} stopped: ${this.crash?.message ?? `exit code ${code}`}`, { cause: this.crash });
    // A no-op once loaded (or refused with the load's own message).
    this.settleLoad.reject(reason);
    for (const pending of this.inFlight.values()) pending.reject(reason);
    this.inFlight.clear();
  }
}
