import { SluiceError } from '../spec/index.js';
import { abortable, abortError } from './abort-reason.js';
import { inputTooLong, requestTooLong, type InputLimits } from './input-limits.js';
import type { SegmentMarks } from './model-tokenizer.js';
import type { TokenizeReply, TokenizeRequest, TokenizerInfo, TokenizerSetup } from './worker-protocol.js';
import { siblingEntry, WorkerThread } from './worker-thread.js';

export interface WorkerTokenizerOptions extends TokenizerSetup {
  /** The worker's module; tests substitute one that can fail on demand. */
  entry?: URL;
}

export interface TokenizeOptions {
  maxLength: number;
  /** Checked in the worker as it reads; absent: the texts were counted already (decoded token ids). */
  limits?: InputLimits;
  /** Names the model in a limit's error. */
  model: string;
  signal?: AbortSignal;
  /** A cross-encoder's query: each text becomes the pair (query, text). */
  query?: string;
}

/**
 * Texts are sent in slices of about this many characters (or SLICE_TEXTS texts), so that a
 * small request's texts wait for at most one slice of a big one's (~60 ms), not all of it.
 */
const SLICE_CHARS = 65_536;
const SLICE_TEXTS = 64;

type TokenizerThread = WorkerThread<TokenizerInfo, TokenizeRequest, TokenizeReply>;

/**
 * Tokenises on a worker thread of its own (tokenizer-worker.ts), and enforces the input limits
 * there, before any model work: counting is tokenising, and neither may hold the event loop. A
 * worker that dies fails the calls it held with `upstream-unavailable`; the next call starts a
 * fresh one.
 */
export class WorkerTokenizer {
  private thread: TokenizerThread | undefined;
  private isClosed = false;

  private constructor(
    private readonly options: WorkerTokenizerOptions,
    /** The model's padding id, read off its tokenizer. */
    readonly padId: number,
    /** How a pair's second segment is marked; absent when the tokenizer has no pair template. */
    readonly segmentMarks: SegmentMarks | undefined,
  ) {}

  /** Resolves once the worker has loaded the tokenizer; rejects with the reason it could not. */
  static async start(options: WorkerTokenizerOptions): Promise<WorkerTokenizer> {
    const thread = startThread(options);
    const info = await thread.loaded;
    const tokenizer = new WorkerTokenizer(options, info.padId, info.segmentMarks);
    tokenizer.thread = thread;
    return tokenizer;
  }

  /**
   * The model's view of each text, template included and cut to `maxLength`. With `limits`, an
   * input or a request over them is refused with `invalid-request` naming it, and what is left
   * of the request is not read.
   */
  async tokenize(texts: readonly string[], options: TokenizeOptions): Promise<number[][]> {
    const sequences: number[][] = [];
    let tokens = 0;
    for (const { start, end } of slices(texts)) {
      if (options.signal?.aborted) throw abortError(options.signal);
      const limits = options.limits && { maxInputTokens: options.limits.maxInputTokens, tokensLeft: options.limits.maxRequestTokens - tokens };
      const reply = await abortable(this.call({ texts: texts.slice(start, end), maxLength: options.maxLength, limits, query: options.query }), options.signal);
      if (reply.type === 'tokenize-failed') throw new Error(reply.message);
      if (reply.type === 'over-limit') {
        throw reply.limit === 'input'
          ? inputTooLong(start + reply.index, reply.tokens, options.limits!, options.model)
          : requestTooLong(tokens + reply.tokens, options.limits!, options.model);
      }
      sequences.push(...reply.sequences);
      tokens += reply.tokens;
    }
    return sequences;
  }

  /** Ends the worker; calls still in it fail with `upstream-unavailable`. */
  async close(): Promise<void> {
    this.isClosed = true;
    await this.thread?.stop();
  }

  private async call(request: TokenizeRequest): Promise<TokenizeReply> {
    if (this.isClosed) throw new SluiceError('upstream-unavailable', 'the embedding model is shutting down');
    if (!this.thread || this.thread.hasExited) this.thread = startThread(this.options);
    const thread = this.thread;
    await thread.loaded;
    return thread.call(request);
  }
}

function startThread(options: WorkerTokenizerOptions): TokenizerThread {
  const setup: TokenizerSetup = { tokenizerPath: options.tokenizerPath, tokenizerConfig: options.tokenizerConfig };
  return new WorkerThread(options.entry ?? siblingEntry(import.meta.url, 'tokenizer-worker'), setup, 'tokenizer worker');
}

/** Consecutive ranges of `texts`, each under SLICE_CHARS characters or SLICE_TEXTS texts, or one text alone. */
function* slices(texts: readonly string[]): Generator<{ start: number; end: number }> {
  let start = 0;
  while (start < texts.length) {
    let end = start + 1;
    let chars = texts[start].length;
    while (end < texts.length && end - start < SLICE_TEXTS && chars + texts[end].length <= SLICE_CHARS) chars += texts[end++].length;
    yield { start, end };
    start = end;
  }
}
