import type { TranscriptionRequest, TranscriptionResult } from '../../adapters/spec/index.js';
import { audioCostUsd } from '../budget/price-table.js';
import type { ModelDirectory } from './candidate-plan.js';
import { callOptions, describeAnswer, type AnswerMeta } from './answer-meta.js';
import type { CallContext } from './chat-pipeline.js';
import { underHold, type BudgetStep } from './budget-step.js';
import { runChain } from './run-chain.js';

export class TranscriptionPipeline {
  constructor(
    private readonly directory: ModelDirectory,
    private readonly budget: BudgetStep,
  ) {}

  async transcribe(request: TranscriptionRequest, context: CallContext): Promise<{ result: TranscriptionResult; meta: AnswerMeta }> {
    const plan = this.directory.plan(request.model, ['transcribe'], context.tenant);
    const success = await runChain(
      plan.chain,
      async (candidate) => {
        const model = this.directory.get(candidate.modelId);
        // Compressed speech runs to about 32 kbit/s at the lowest: no upload lasts longer than that.
        const longestSeconds = request.file.data.length / 4_000;
        // A free model's price makes both figures 0, and a zero estimate holds nothing.
        const costUsd = (seconds: number) => (model ? (audioCostUsd(model.price, seconds) ?? 0) : 0);
        return underHold(
          await this.budget.reserve(context.tenant, model, costUsd(longestSeconds), context.requestId),
          () => this.directory.adapter(candidate.backendId).transcribe!({ ...request, model: candidate.upstreamModel }, callOptions(this.directory, candidate, context)),
          (result) => costUsd(result.durationSeconds ?? longestSeconds),
        );
      },
      context.signal,
    );
    const { candidate, value } = success;
    const model = this.directory.get(candidate.modelId);
    const meta: AnswerMeta = {
      ...describeAnswer(this.directory, success),
      costUsd: model ? audioCostUsd(model.price, value.durationSeconds) : undefined,
    };
    return { result: value, meta };
  }
}
