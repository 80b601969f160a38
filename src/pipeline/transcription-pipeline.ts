import type { TranscriptionRequest, TranscriptionResult } from '../../adapters/spec/index.js';
import { audioCostUsd } from '../budget/price-table.js';
import type { ModelDirectory } from './candidate-plan.js';
import { callOptions, describeAnswer, type AnswerMeta } from './answer-meta.js';
import type { CallContext } from './chat-pipeline.js';
import { runChain } from './run-chain.js';

export class TranscriptionPipeline {
  constructor(private readonly directory: ModelDirectory) {}

  async transcribe(request: TranscriptionRequest, context: CallContext): Promise<{ result: TranscriptionResult; meta: AnswerMeta }> {
    const plan = this.directory.plan(request.model, ['transcribe'], context.tenant);
    const success = await runChain(
      plan.chain,
      (candidate) =>
        this.directory.adapter(candidate.backendId).transcribe!(
          { ...request, model: candidate.upstreamModel },
          callOptions(this.directory, candidate, context),
        ),
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
