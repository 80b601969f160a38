import type { EmbeddingInput, EmbeddingResult } from '../../adapters/spec/index.js';
import { SluiceError } from '../../adapters/spec/index.js';
import { embeddingCostUsd } from '../budget/price-table.js';
import { textTokenUpperBound } from '../budget/token-bound.js';
import type { ModelCatalog } from '../routing/model-catalog.js';
import type { RoutingPolicy } from '../routing/routing-policy.js';
import type { RequestRecord } from './attempt.js';
import type { Backends } from './backends.js';
import { underHold, type BudgetStep } from './budget-step.js';
import { RequestRun, type CallContext } from './request-run.js';
import { runChain } from './run-chain.js';
import { decodeTokenInput, type DecodedTokens } from './token-input.js';

export interface EmbeddingsCall {
  model: string;
  input: EmbeddingInput;
  dimensions?: number;
  user?: string;
}

export interface EmbeddingsAnswer {
  result: EmbeddingResult;
  record: RequestRecord;
}

export class EmbeddingsPipeline {
  constructor(
    private readonly policy: RoutingPolicy,
    private readonly catalog: ModelCatalog,
    private readonly backends: Backends,
    private readonly budget: BudgetStep,
  ) {}

  async embed(request: EmbeddingsCall, context: CallContext): Promise<EmbeddingsAnswer> {
    const run = new RequestRun(context, request.input.kind === 'text' ? request.input.values.join('\n') : `${request.input.values.length} token arrays`);
    try {
      const plan = this.policy.planModel(request.model, ['embed'], context.tenant);
      let decoded: Promise<DecodedTokens> | undefined;
      const success = await runChain(
        plan.chain,
        async (candidate, timer) => {
          const embed = this.backends.method(candidate, 'embed');
          // Token ids mean OpenAI tokens of the model the client named: a local model gets the
          // text they spell (decoded once, whichever local candidate asks); a vendor, the ids.
          // A bad id fails here, before any hold or model work, and stops the chain.
          const tokenText = request.input.kind === 'tokens' && this.backends.isLocal(candidate.backendId)
            ? await (decoded ??= decodeTokenInput(request.input.values, request.model))
            : undefined;
          const price = this.catalog.get(candidate.modelId)?.price;
          // A free model's price makes both figures 0, and a zero estimate holds nothing.
          const costUsd = (tokens: number) => (price ? embeddingCostUsd(price, tokens) : 0);
          const call = { ...request, model: candidate.upstreamModel, ...(tokenText && { input: tokenText.input, clientTokenCounts: tokenText.tokenCounts }) };
          const result = await underHold(
            await this.budget.reserve(context.tenant, this.catalog.get(candidate.modelId), costUsd(upperBoundTokens(request.input)), context.requestId),
            async () => checked(await embed(call, this.backends.callOptions(candidate, context)), request, candidate.backendId),
            (answer) => costUsd(answer.usage.prompt_tokens),
          );
          timer.markFirstToken();
          return { result, costUsd: costUsd(result.usage.prompt_tokens) };
        },
        run.attempts,
        { signal: context.signal, routeOf: (candidate) => this.backends.routeOf(candidate), accountOf: () => ({}) },
      );
      const { result, costUsd } = success.value;
      const usage = { prompt_tokens: result.usage.prompt_tokens, completion_tokens: 0, total_tokens: result.usage.total_tokens };
      const served = success.timer.finish('answered', { usage, costUsd });
      run.attempts.push(served);
      const vectors = request.dimensions ? result.vectors.map((vector) => shorten(vector, request.dimensions!)) : result.vectors;
      return { result: { ...result, vectors }, record: run.finish(served) };
    } catch (error) {
      throw run.fail(error);
    }
  }
}

/** A backend that returns the wrong number of vectors has failed this attempt. */
function checked(result: EmbeddingResult, request: EmbeddingsCall, backendId: string): EmbeddingResult {
  const expected = request.input.values.length;
  if (result.vectors.length !== expected) {
    throw new SluiceError('upstream-unavailable', `${backendId} returned ${result.vectors.length} vectors for ${expected} inputs`);
  }
  return result;
}

/** Token ids count themselves; text is bounded by its UTF-8 bytes (token-bound.ts). */
function upperBoundTokens(input: EmbeddingInput): number {
  if (input.kind === 'tokens') return input.values.reduce((sum, ids) => sum + ids.length, 0);
  return textTokenUpperBound(input.values);
}

/**
 * `dimensions` on a backend that returned more: keep the leading components and renormalise,
 * as OpenAI does for its text-embedding-3 models.
 */
export function shorten(vector: number[], dimensions: number): number[] {
  if (vector.length <= dimensions) return vector;
  const head = vector.slice(0, dimensions);
  const norm = Math.hypot(...head) || 1;
  return head.map((value) => value / norm);
}
