import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

const positiveInteger = z.number().int().positive();

/** `backends.<id>.options` of a `llama-cpp` backend. Strict: a misspelt option is an error. */
const optionsSchema = z.strictObject({
  /** GGUF file, relative to `paths.models_dir` or absolute. */
  model: z.string().min(1),
  /** Tokens one request may use (prompt + answer); every sequence gets this many. */
  context_size: positiveInteger.default(4096),
  /** Requests generated at the same time. */
  parallel: positiveInteger.max(64).default(2),
  /** Requests allowed to wait beyond `parallel`; more are answered 429. */
  queue_limit: z.number().int().nonnegative().default(32),
  /**
   * Longest a request waits for a slot. One whose expected wait is longer is answered 429 at
   * once (the pipeline tries the next candidate first), and one still waiting this long leaves
   * the line the same way: a client is never left hanging behind a long line.
   */
  max_wait_ms: z.number().int().nonnegative().max(3_600_000).default(20_000), // an hour: far past any client's patience, within a timer's range
  /** CPU threads for evaluation, shared by the parallel requests. */
  threads: positiveInteger.optional(),
  /** `max_tokens` when the request sets none. */
  default_max_tokens: positiveInteger.default(512),
});

export interface LlamaCppOptions {
  /** Absolute path of the GGUF file. */
  modelPath: string;
  contextSize: number;
  parallel: number;
  queueLimit: number;
  maxWaitMs: number;
  threads: number;
  defaultMaxTokens: number;
}

/**
 * Validates a backend's options and resolves the model path against the models directory.
 * Throws an Error that names the backend and the offending option, so a bad config fails at
 * start-up rather than at the first request.
 */
export function parseLlamaCppOptions(backendId: string, raw: Record<string, unknown>, modelsDir: string): LlamaCppOptions {
  const parsed = optionsSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join('.') : describeUnknownKeys(issue);
      return `backends.${backendId}.options.${path}: ${issue.message}`;
    });
    throw new Error(`invalid llama-cpp options: ${problems.join('; ')}`);
  }
  const options = parsed.data;
  return {
    modelPath: isAbsolute(options.model) ? options.model : resolve(modelsDir, options.model),
    contextSize: options.context_size,
    parallel: options.parallel,
    queueLimit: options.queue_limit,
    maxWaitMs: options.max_wait_ms,
    threads: options.threads ?? availableParallelism(),
    defaultMaxTokens: options.default_max_tokens,
  };
}

function describeUnknownKeys(issue: z.core.$ZodIssue): string {
  return issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '(root)';
}
