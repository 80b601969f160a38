import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SluiceError } from '../spec/index.js';
import type { EncoderSettings } from './onnx-encoder.js';
import { padBatch, type PaddedBatch } from './pooling.js';
import type { BatchMessage, WorkerReply, WorkerSetup } from './worker-protocol.js';

/**
 * The worker's module beside this one: onnx-worker.js when running compiled code from dist/,
 * onnx-worker.ts when running the TypeScript source (vitest, `node --import tsx`).
 */
const WORKER_ENTRY = new URL(import.meta.url.endsWith('.ts') ? './onnx-worker.ts' : './onnx-worker.js', import.meta.url);

export interface WorkerEncoderOptions {
  modelPath: string;
  settings: EncoderSettings;
  padId: number;
  /** The worker's module; tests substitute one that can fail on demand. */
  entry?: URL;
}

/**
 * Runs the model on a worker thread (onnx-worker.ts) so that inference never blocks the
 * gateway's event loop; padding stays here, cheap next to a run. Batches' tensors are
 * transferred to the worker and the vectors transferred back. A worker that dies fails the
 * batches it held with `upstream-unavailable`, and the next batch starts a fresh one.
 */
export class WorkerEncoder {
  private thread: EncoderThread | undefined;
  private isClosed = false;

  private constructor(private readonly options: WorkerEncoderOptions) {}

  /** Resolves once the worker has loaded the session; rejects with the reason it could not. */
  static async start(options: WorkerEncoderOptions): Promise<WorkerEncoder> {
    const encoder = new WorkerEncoder(options);
    await encoder.loadedThread();
    return encoder;
  }

  /** One run: every sequence padded to the longest, one vector per sequence, in order. */
  async encode(sequences: readonly (readonly number[])[]): Promise<Float32Array[]> {
    const thread = await this.loadedThread();
    return thread.run(padBatch(sequences, this.options.padId));
  }

  /** Ends the worker; batches still in it fail with `upstream-unavailable`. */
  async close(): Promise<void> {
    this.isClosed = true;
    await this.thread?.stop();
  }

  private async loadedThread(): Promise<EncoderThread> {
    if (this.isClosed) throw new SluiceError('upstream-unavailable', 'the embedding model is shutting down');
    if (!this.thread || this.thread.hasExited) this.thread = new EncoderThread(this.options.entry ?? WORKER_ENTRY, this.options);
    const thread = this.thread;
    await thread.loaded;
    return thread;
  }
}

interface InFlight {
  rows: number;
  resolve(vectors: Float32Array[]): void;
  reject(error: unknown): void;
}

/** One worker's lifetime: it loads, runs batches, and when it exits fails whatever it held. */
class EncoderThread {
  readonly loaded: Promise<void>;
  hasExited = false;
  private readonly worker: Worker;
  private readonly inFlight = new Map<number, InFlight>();
  private nextId = 0;
  private settleLoad!: { resolve(): void; reject(error: unknown): void };
  /** The worker's uncaught exception, reported just before it exits. */
  private crash: Error | undefined;
  private isStopping = false;

  constructor(entry: URL, options: WorkerEncoderOptions) {
    this.loaded = new Promise((resolve, reject) => (this.settleLoad = { resolve, reject }));
    this.worker = startWorker(entry, { modelPath: options.modelPath, settings: options.settings });
    this.worker.on('message', (reply: WorkerReply) => this.receive(reply));
    this.worker.on('error', (error) => (this.crash = error));
    this.worker.on('exit', (code) => this.exited(code));
  }

  run(batch: PaddedBatch): Promise<Float32Array[]> {
    if (this.hasExited) return Promise.reject(new SluiceError('upstream-unavailable', 'the embedding worker has stopped'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.inFlight.set(id, { rows: batch.batchSize, resolve, reject });
      // Held only while it works: an idle model keeps the process alive no more than before.
      this.worker.ref();
      const message: BatchMessage = { id, ...batch };
      this.worker.postMessage(message, [batch.inputIds.buffer, batch.attentionMask.buffer, batch.tokenTypeIds.buffer] as ArrayBuffer[]);
    });
  }

  async stop(): Promise<void> {
    this.isStopping = true;
    await this.worker.terminate();
  }

  private receive(reply: WorkerReply): void {
    if (reply.type === 'loaded') {
      this.settleLoad.resolve();
    } else if (reply.type === 'load-failed') {
      this.settleLoad.reject(new Error(reply.message));
    } else {
      const pending = this.inFlight.get(reply.id);
      this.inFlight.delete(reply.id);
      if (reply.type === 'encoded') pending?.resolve(splitRows(reply.vectors, pending.rows));
      else pending?.reject(new Error(reply.message));
    }
    if (this.inFlight.size === 0) this.worker.unref();
  }

  private exited(code: number): void {
    this.hasExited = true;
    const reason = this.isStopping
      ? new SluiceError('upstream-unavailable', 'the embedding model is shutting down')
      : new SluiceError('upstream-unavailable', `the embedding worker stopped: ${this.crash?.message ?? `exit code ${code}`}`, { cause: this.crash });
    // A no-op once loaded (or refused with the load's own message).
    this.settleLoad.reject(reason);
    for (const pending of this.inFlight.values()) pending.reject(reason);
    this.inFlight.clear();
  }
}

function splitRows(packed: Float32Array, rows: number): Float32Array[] {
  const dimensions = packed.length / rows;
  return Array.from({ length: rows }, (_, row) => packed.subarray(row * dimensions, (row + 1) * dimensions));
}

function startWorker(entry: URL, setup: WorkerSetup): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData: setup });
  // TypeScript source (vitest, tsx): the worker needs tsx's loader. Node 20 ignores --import in
  // a Worker's execArgv (`execArgv: ['--import', 'tsx']` still fails with ERR_UNKNOWN_FILE_EXTENSION),
  // so the worker registers tsx itself, then imports the entry. Only development and tests come
  // here; dist/ runs the .js entry directly.
  const bootstrap = `import(${JSON.stringify(tsxApiUrl(entry))}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: setup });
}

/**
 * tsx's ESM API (`tsx/esm/api`, its `import` build) as installed beside `from`. Found through
 * its package.json because neither vitest's `import.meta` nor a worker's eval code can resolve
 * an ESM specifier from a given file, and the API's CommonJS build registers a wrong loader path.
 */
function tsxApiUrl(from: URL): string {
  const require = createRequire(from);
  const packagePath = require.resolve('tsx/package.json');
  const { exports } = require(packagePath) as { exports: { './esm/api': { import: { default: string } } } };
  return new URL(exports['./esm/api'].import.default, pathToFileURL(packagePath)).href;
}
