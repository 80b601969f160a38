import type { TranscriptionRequest, TranscriptionResult } from '../../adapters/spec/index.js';
import { audioCostUsd } from '../budget/price-table.js';
import type { ModelCatalog } from '../routing/model-catalog.js';
import type { RoutingPolicy } from '../routing/routing-policy.js';
import type { RequestRecord } from './attempt.js';
import type { Backends } from './backends.js';
import { underHold, type BudgetStep } from './budget-step.js';
import { RequestRun, type CallContext } from './request-run.js';
import { runChain } from './run-chain.js';

export interface TranscriptionAnswer {
  result: TranscriptionResult;
  record: RequestRecord;
}

/** Compressed speech runs to about 32 kbit/s at the lowest: no upload lasts longer than this. */
const BYTES_PER_SECOND_AT_LEAST = 4_000;

export class TranscriptionPipeline {
  constructor(
    private readonly policy: RoutingPolicy,
    private readonly catalog: ModelCatalog,
    private readonly backends: Backends,
    private readonly budget: BudgetStep,
  ) {}

  async transcribe(request: TranscriptionRequest, context: CallContext): Promise<TranscriptionAnswer> {
    const run = new RequestRun(context, `${request.file.filename} (${request.file.data.length} bytes)`);
    try {
      const plan = this.policy.planModel(request.model, ['transcribe'], context.tenant);
      const longestSeconds = request.file.data.length / BYTES_PER_SECOND_AT_LEAST;
      const success = await runChain(
        plan.chain,
        async (candidate, timer) => {
          const transcribe = this.backends.method(candidate, 'transcribe');
          const price = this.catalog.get(candidate.modelId)?.price;
          // A free model's price makes both figures 0, and a zero estimate holds nothing.
          const costUsd = (seconds: number) => (price ? (audioCostUsd(price, seconds) ?? 0) : 0);
          // Computed once: what the ledger is settled with is what the header and the log say.
          let account = { costUsd: 0, isCostEstimated: false };
          const result = await underHold(
            await this.budget.reserve(context.tenant, this.catalog.get(candidate.modelId), costUsd(longestSeconds), context.requestId),
            () => transcribe({ ...request, model: candidate.upstreamModel }, this.backends.callOptions(candidate, context)),
            (answer) => {
              // A backend that reports no duration is charged for the longest the upload can last.
              account = { costUsd: costUsd(answer.durationSeconds ?? longestSeconds), isCostEstimated: answer.durationSeconds === undefined && costUsd(1) > 0 };
              return account.costUsd;
            },
          );
          timer.markFirstToken();
          return { result, account };
        },
        run.attempts,
        { signal: context.signal, routeOf: (candidate) => this.backends.routeOf(candidate), accountOf: () => ({}) },
      );
      const { result, account } = success.value;
      const served = success.timer.finish('answered', { ...account, outputText: result.text });
      run.attempts.push(served);
      return { result, record: run.finish(served) };
    } catch (error) {
      throw run.fail(error);
    }
  }
}
