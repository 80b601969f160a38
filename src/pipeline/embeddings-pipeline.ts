import type { EmbeddingInput, EmbeddingResult } from '../../adapters/spec/index.js';
import { SluiceError } from '../../adapters/spec/index.js';
import { embeddingCostUsd } from '../budget/price-table.js';
import type { ModelDirectory } from './candidate-plan.js';
import { callOptions, describeAnswer, type AnswerMeta } from './answer-meta.js';
import type { CallContext } from './chat-pipeline.js';
import { underHold, type BudgetStep } from './budget-step.js';
import { runChain } from './run-chain.js';

export interface EmbeddingsCall {
  model: string;
  input: EmbeddingInput;
  dimensions?: number;
  user?: string;
}

export class EmbeddingsPipeline {
  constructor(
    private readonly directory: ModelDirectory,
    private readonly budget: BudgetStep,
  ) {}

  async embed(request: EmbeddingsCall, context: CallContext): Promise<{ result: EmbeddingResult; meta: AnswerMeta }> {
    const plan = this.directory.plan(request.model, ['embed'], context.tenant);
    const success = await runChain(
      plan.chain,
      async (candidate) => {
        const model = this.directory.get(candidate.modelId);
        // A free model's price makes both figures 0, and a zero estimate holds nothing.
        const costUsd = (tokens: number) => (model ? embeddingCostUsd(model.price, tokens) : 0);
        return underHold(
          await this.budget.reserve(context.tenant, model, costUsd(upperBoundTokens(request.input)), context.requestId),
          () => this.directory.adapter(candidate.backendId).embed!({ ...request, model: candidate.upstreamModel }, callOptions(this.directory, candidate, context)),
          (result) => costUsd(result.usage.prompt_tokens),
        );
      },
      context.signal,
    );
    const { candidate, value } = success;
    const vectors = request.dimensions ? value.vectors.map((vector) => shorten(vector, request.dimensions!)) : value.vectors;
    if (vectors.length !== inputCount(request.input)) {
      throw new SluiceError('upstream-unavailable', `${candidate.backendId} returned ${vectors.length} vectors for ${inputCount(request.input)} inputs`);
    }
    const model = this.directory.get(candidate.modelId);
    const meta: AnswerMeta = {
      ...describeAnswer(this.directory, success),
      costUsd: model ? embeddingCostUsd(model.price, value.usage.prompt_tokens) : undefined,
      usage: { prompt_tokens: value.usage.prompt_tokens, completion_tokens: 0, total_tokens: value.usage.total_tokens },
    };
    return { result: { ...value, vectors }, meta };
  }
}

/** At most one token per two characters (and one per id), so the hold covers the real cost. */
function upperBoundTokens(input: EmbeddingInput): number {
  if (input.kind === 'tokens') return input.values.reduce((sum, ids) => sum + ids.length, 0);
  return input.values.reduce((sum, text) => sum + Math.ceil(text.length / 2) + 2, 0);
}

function inputCount(input: EmbeddingInput): number {
  return input.values.length;
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
