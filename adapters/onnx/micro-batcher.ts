import { SluiceError } from '../spec/index.js';
import { abortError } from './abort-reason.js';

/** Runs one batch of token sequences through the model: one vector per sequence, in order. */
export type BatchRunner = (sequences: readonly (readonly number[])[]) => Promise<Float32Array[]>;

export interface MicroBatcherOptions {
  /** Most sequences in one run. */
  maxBatch: number;
  /**
   * Most padded tokens in one run (its sequences × the longest of them), which its time grows
   * with; a sequence longer than this runs alone. Absent: no cap but maxBatch.
   */
  maxBatchTokens?: number;
  /** How long the first request to an idle batcher waits for others to join its run. */
  windowMs: number;
}

interface Job {
  sequences: readonly (readonly number[])[];
  /** Sequence indices longest first: a job split over several runs then pads each run less. */
  order: number[];
  /** How many of `order` have been taken into a run. */
  taken: number;
  results: Float32Array[];
  /** Vectors still to come back. */
  outstanding: number;
  settled: boolean;
  resolve(vectors: Float32Array[]): void;
  reject(error: unknown): void;
  detach(): void;
}

/**
 * Merges concurrent embedding calls into few model runs. A call arriving at an idle batcher
 * opens a window of `windowMs`; everything queued when it closes (or as soon as `maxBatch`
 * sequences wait) runs together, padded to its longest sequence. One run at a time: the ONNX
 * session already spreads a run over every intra-op thread, so overlapping runs would only
 * compete. Calls queued during a run go next, without a new window: they have waited already.
 *
 * A call larger than one run is split over several, and each run is shared: the waiting calls,
 * in arrival order, are dealt its slots one sequence at a time, so each contributes its next
 * slice. A one-input call that arrives behind a 2,048-input one goes into the next run, not
 * after the whole big call (measured before: 7.5 s behind 256 inputs), so it waits for about
 * two runs, and `maxBatchTokens` keeps a run short; with more calls waiting than a run holds,
 * the earliest go first.
 */
export class MicroBatcher {
  private readonly queue: Job[] = [];
  private queuedSequences = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly run: BatchRunner,
    private readonly options: MicroBatcherOptions,
  ) {}

  /**
   * Vectors for `sequences`, in order. An abort before the last of them has run rejects the
   * call at once with the signal's reason when that is a SluiceError (a deadline), else with
   * `client-closed`; its sequences not yet run are dropped from the queue.
   */
  embed(sequences: readonly (readonly number[])[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (this.closed) return Promise.reject(new SluiceError('upstream-unavailable', 'the embedding model is shutting down'));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (sequences.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const onAbort = () => this.fail(job, abortError(signal!));
      const job: Job = {
        sequences,
        order: sequences.map((_, index) => index).sort((a, b) => sequences[b].length - sequences[a].length),
        taken: 0,
        results: new Array(sequences.length),
        outstanding: sequences.length,
        settled: false,
        resolve,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(job);
      this.queuedSequences += sequences.length;
      this.schedule();
    });
  }

  /** Sequences waiting for a run (tests and metrics). */
  get pendingSequences(): number {
    return this.queuedSequences;
  }

  /** Rejects everything queued; resolves once the run in flight, if any, has finished. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const job of [...this.queue]) this.fail(job, new SluiceError('upstream-unavailable', 'the embedding model is shutting down'));
    await this.running;
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    if (this.queuedSequences >= this.options.maxBatch) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.startRun();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.startRun();
      }, this.options.windowMs);
    }
  }

  private startRun(): void {
    const slots = this.takeBatch();
    if (slots.length === 0) return;
    this.running = this.execute(slots).finally(() => {
      this.running = undefined;
      // setImmediate, not a microtask: the I/O phase runs first, so requests whose bytes
      // arrived with the run's answer are queued before the next batch is cut.
      if (this.queue.length > 0) setImmediate(() => this.continueAfterRun());
    });
  }

  private continueAfterRun(): void {
    if (this.running || this.closed) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.startRun();
  }

  private takeBatch(): { job: Job; index: number }[] {
    const { maxBatch, maxBatchTokens = Infinity } = this.options;
    const shares = new Map<Job, number>(this.queue.map((job) => [job, 0]));
    let dealt = 0;
    let longest = 0;
    const passedOver = new Set<Job>();
    for (let isDealing = true; isDealing && dealt < maxBatch; ) {
      isDealing = false;
      for (const job of this.queue) {
        if (dealt === maxBatch) break;
        const share = shares.get(job)!;
        if (job.taken + share === job.order.length) continue;
        // A job's sequences go longest first, so its next one is the longest it has left.
        const length = job.sequences[job.order[job.taken + share]].length;
        const padded = (dealt + 1) * Math.max(longest, length);
        if (dealt > 0 && padded > maxBatchTokens) {
          if (share === 0) passedOver.add(job);
          continue;
        }
        shares.set(job, share + 1);
        longest = Math.max(longest, length);
        dealt++;
        isDealing = true;
      }
    }
    // A run holds each job's slice together, longest first, the jobs in queue order.
    const slots: { job: Job; index: number }[] = [];
    for (const [job, share] of shares) {
      for (const index of job.order.slice(job.taken, job.taken + share)) slots.push({ job, index });
      job.taken += share;
    }
    this.queuedSequences -= dealt;
    // A job left out because its next sequence did not fit leads the next run, where it always
    // fits: a long sequence is never passed over for ever by shorter ones that keep arriving.
    const waiting = this.queue.filter((job) => job.taken < job.order.length);
    this.queue.splice(0, this.queue.length, ...waiting.filter((job) => passedOver.has(job)), ...waiting.filter((job) => !passedOver.has(job)));
    return slots;
  }

  private async execute(slots: { job: Job; index: number }[]): Promise<void> {
    let vectors: Float32Array[];
    try {
      vectors = await this.run(slots.map(({ job, index }) => job.sequences[index]));
      if (vectors.length !== slots.length) throw new Error(`the model returned ${vectors.length} vectors for ${slots.length} sequences`);
    } catch (error) {
      for (const { job } of slots) this.fail(job, error);
      return;
    }
    slots.forEach(({ job, index }, position) => {
      if (job.settled) return;
      job.results[index] = vectors[position];
      job.outstanding--;
      if (job.outstanding === 0) {
        job.settled = true;
        job.detach();
        job.resolve(job.results);
      }
    });
  }

  private fail(job: Job, error: unknown): void {
    if (job.settled) return;
    job.settled = true;
    job.detach();
    const position = this.queue.indexOf(job);
    if (position >= 0) {
      this.queue.splice(position, 1);
      this.queuedSequences -= job.order.length - job.taken;
    }
    job.reject(error);
  }
}
