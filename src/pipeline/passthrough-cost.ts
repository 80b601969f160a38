import type { Usage } from '../../adapters/spec/index.js';
import { maxChatCostUsd } from '../budget/price-table.js';
import type { ModelConfig } from '../config/schema.js';

/**
 * What a passthrough call can cost, decided before it is forwarded.
 * - `free`: reads, deletes, cancels, moderations and file uploads, which vendors do not bill.
 * - `priced`: a model call whose answer carries its usage (`POST /v1/responses`, `/v1/completions`)
 *   on a configured model: reserved up front, settled from the answer.
 * - `unpriced`: anything else that makes the vendor do billable work (images, fine-tuning, batches,
 *   speech, realtime sessions, a model with no configured price…): Sluice cannot say what it cost.
 */
export type PassthroughCostPlan =
  | { kind: 'free' }
  | {
      kind: 'priced';
      model: ModelConfig;
      estimateUsd: number;
      /** Why the estimate is not an upper bound (a stored conversation, a built-in tool…); absent when it is one. */
      unboundedBecause?: string;
    }
  | { kind: 'unpriced'; reason: string };

/** Paths whose POST makes the vendor do no billable work. */
const FREE_POSTS = [/^\/v1\/moderations$/, /^\/v1\/files$/, /^\/v1\/uploads(?:\/|$)/, /\/cancel$/, /^\/v1\/responses\/input_tokens$/];
/** Model calls whose answer reports its usage, so the call can be settled from it. */
const PRICED_POSTS = new Set(['/v1/responses', '/v1/completions']);
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE']);

/**
 * GPT-4o-mini bills a high-detail image as up to 2,833 + 6 × 5,667 tokens (it multiplies image
 * tokens to keep the per-image price of GPT-4o); 40,000 covers that and every patch-based model.
 * The hold is settled at the vendor's own count, so this only holds more while the call runs.
 */
const TOKENS_PER_IMAGE = 40_000;
/** Tool types billed by the call (function calling); any other tool (web search, code interpreter, …) is billed apart. */
const CALL_BILLED_TOOLS = new Set(['function', 'custom']);
/** Content the vendor expands from elsewhere, so its size is not in the body. */
const UNSEEN_CONTENT = new Map([
  ['input_file', 'an input file is read by the vendor, its size is not in the request'],
  ['input_audio', 'audio input is billed by its duration'],
  ['item_reference', 'a referenced item is stored by the vendor, its size is not in the request'],
]);
/** Service tiers billed at the price table's rates (or below). */
const LISTED_RATE_TIERS = new Set(['auto', 'default', 'flex']);

export interface CostInputs {
  method: string;
  /** The normalised path. */
  path: string;
  body: Record<string, unknown> | undefined;
  /** The serialised body's size: byte-level tokenizers never make a token of less than one byte. */
  bodyBytes: number;
  models: readonly ModelConfig[];
  /** The passthrough backend: a model named by its upstream name is priced only if it lives there. */
  backendId: string;
  /** What a reservation assumes when the request sets no output cap, as for chat. */
  defaultOutputTokens: number;
}

export function planPassthroughCost(inputs: CostInputs): PassthroughCostPlan {
  const method = inputs.method.toUpperCase();
  const path = inputs.path.toLowerCase();
  if (READ_METHODS.has(method)) return { kind: 'free' };
  if (method === 'POST' && FREE_POSTS.some((pattern) => pattern.test(path))) return { kind: 'free' };
  if (method !== 'POST' || !PRICED_POSTS.has(path)) return { kind: 'unpriced', reason: `${method} ${inputs.path} is billed by the vendor in a way Sluice cannot measure` };
  const body = inputs.body ?? {};
  const name = body.model;
  if (typeof name !== 'string') return { kind: 'unpriced', reason: 'the request names no model, so its price is unknown' };
  const model = inputs.models.find((entry) => entry.id === name) ?? inputs.models.find((entry) => entry.upstream_model === name && entry.backend === inputs.backendId);
  if (!model) return { kind: 'unpriced', reason: `the model '${name}' is not configured, so its price is unknown` };
  // A background response answers at once with no usage; what it finally costs is never seen here.
  if (body.background === true) return { kind: 'unpriced', reason: 'a background response reports its usage only later, to whoever polls it' };

  const shape = describeBody(body);
  const outputCap = firstPositiveInteger(body.max_output_tokens, body.max_tokens) ?? inputs.defaultOutputTokens;
  // Legacy completions make `best_of` answers and return `n` of them; every one is billed.
  const answers = Math.max(1, firstPositiveInteger(body.best_of) ?? 1, firstPositiveInteger(body.n) ?? 1);
  const promptTokens = inputs.bodyBytes + shape.images * TOKENS_PER_IMAGE;
  return {
    kind: 'priced',
    model,
    estimateUsd: maxChatCostUsd(model.price, promptTokens, outputCap * answers),
    unboundedBecause: shape.unboundedBecause,
  };
}

/** One walk over the body: images to count, and the first thing that makes the prompt's size unknowable. */
function describeBody(body: Record<string, unknown>): { images: number; unboundedBecause?: string } {
  let unboundedBecause: string | undefined;
  if (typeof body.previous_response_id === 'string') unboundedBecause = 'previous_response_id continues a stored conversation whose size is not in the request';
  else if (body.conversation !== undefined && body.conversation !== null) unboundedBecause = 'a stored conversation is not in the request';
  else if (body.prompt !== undefined && typeof body.prompt === 'object' && !Array.isArray(body.prompt)) unboundedBecause = 'a stored prompt template is not in the request';
  else if (typeof body.service_tier === 'string' && !LISTED_RATE_TIERS.has(body.service_tier)) unboundedBecause = `service_tier '${body.service_tier}' is billed above the configured price`;
  else if (Array.isArray(body.tools)) {
    const tool = body.tools.find((entry) => isRecord(entry) && typeof entry.type === 'string' && !CALL_BILLED_TOOLS.has(entry.type));
    if (isRecord(tool)) unboundedBecause = `the built-in tool '${String(tool.type)}' is billed apart from the tokens`;
  }
  let images = 0;
  const stack: unknown[] = [body.input];
  while (stack.length > 0) {
    const value = stack.pop();
    // One push per element: spreading a 4 MB array of numbers would pass millions of arguments.
    if (Array.isArray(value)) for (const element of value) stack.push(element);
    else if (isRecord(value)) {
      if (value.type === 'input_image') images += 1;
      const unseen = typeof value.type === 'string' ? UNSEEN_CONTENT.get(value.type) : undefined;
      unboundedBecause ??= unseen;
      for (const child of Object.values(value)) stack.push(child);
    }
  }
  return { images, unboundedBecause };
}

/**
 * The usage an answer reports, in chat's shape: the Responses API's (`input_tokens`,
 * `output_tokens`) or legacy completions' (`prompt_tokens`, `completion_tokens`).
 */
export function usageFromAnswer(value: unknown): Usage | undefined {
  if (!isRecord(value)) return undefined;
  const prompt = value.input_tokens ?? value.prompt_tokens;
  const completion = value.output_tokens ?? value.completion_tokens;
  if (!isCount(prompt) || !isCount(completion)) return undefined;
  const inputDetails = value.input_tokens_details ?? value.prompt_tokens_details;
  const outputDetails = value.output_tokens_details ?? value.completion_tokens_details;
  const cached = isRecord(inputDetails) && isCount(inputDetails.cached_tokens) ? inputDetails.cached_tokens : undefined;
  const reasoning = isRecord(outputDetails) && isCount(outputDetails.reasoning_tokens) ? outputDetails.reasoning_tokens : undefined;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    ...(cached !== undefined && { prompt_tokens_details: { cached_tokens: cached } }),
    ...(reasoning !== undefined && { completion_tokens_details: { reasoning_tokens: reasoning } }),
  };
}

function firstPositiveInteger(...values: unknown[]): number | undefined {
  return values.find((value): value is number => typeof value === 'number' && Number.isInteger(value) && value > 0);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
