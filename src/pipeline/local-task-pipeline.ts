import type { CallOptions, Capability, ClassificationRequest, ClassificationResult, ModerationResult, OcrRequest, OcrResult } from '../../adapters/spec/index.js';
import { SluiceError } from '../../adapters/spec/index.js';
import type { ModelCatalog } from '../routing/model-catalog.js';
import type { Candidate } from '../routing/candidates.js';
import type { RoutingPolicy } from '../routing/routing-policy.js';
import type { RequestRecord } from './attempt.js';
import type { Backends } from './backends.js';
import { RequestRun, type CallContext } from './request-run.js';
import { runChain } from './run-chain.js';

export interface TaskAnswer<T> {
  result: T;
  record: RequestRecord;
}

/** Texts for moderation or sentiment; `model` absent: the first configured model that can. */
export interface TextTaskCall {
  model?: string;
  inputs: string[];
}

export interface OcrCall extends Omit<OcrRequest, 'model'> {
  model?: string;
}

/** What each text task's adapter method answers. */
interface TextResults {
  moderate: ModerationResult;
  classify: ClassificationResult;
}

interface Task<T> {
  model?: string;
  capability: Capability;
  /** What the log keeps of the input (`input_text`). */
  inputText: string;
  /** One candidate's answer, from its adapter, asked for `candidate.upstreamModel`. */
  run(candidate: Candidate, context: CallContext): Promise<T>;
  /** What the log keeps of the answer (`output`). */
  outputText(result: T): string;
  /** Tokens the model read, when it counts them. */
  usageOf?(result: T): { prompt_tokens: number; total_tokens: number };
}

/**
 * The flow of the endpoints that serve a task rather than a conversation — OCR, moderation,
 * sentiment: resolve the model, try its chain, record every attempt, hand over one record.
 * No budget hold: the models behind them are local and free (OpenAI's moderation endpoint costs
 * nothing either), so there is nothing to reserve; their attempts are logged at cost 0.
 */
export class LocalTaskPipeline {
  constructor(
    private readonly policy: RoutingPolicy,
    private readonly catalog: ModelCatalog,
    private readonly backends: Backends,
  ) {}

  ocr(call: OcrCall, context: CallContext): Promise<TaskAnswer<OcrResult>> {
    return this.run(
      {
        model: call.model,
        capability: 'ocr',
        inputText: `${call.image.filename} (${call.image.data.length} bytes)`,
        run: (candidate) => this.backends.method(candidate, 'ocr')({ model: candidate.upstreamModel, image: call.image }, this.backends.callOptions(candidate, context)),
        outputText: (result) => result.text,
      },
      context,
    );
  }

  moderate(call: TextTaskCall, context: CallContext): Promise<TaskAnswer<ModerationResult>> {
    return this.textTask('moderate', call, context, (result) => result.results.map((verdict) => (verdict.flagged ? 'flagged' : 'not flagged')).join('\n'));
  }

  classify(call: TextTaskCall, context: CallContext): Promise<TaskAnswer<ClassificationResult>> {
    return this.textTask('classify', call, context, (result) => result.results.map((scores) => JSON.stringify(scores.scores)).join('\n'));
  }

  /** Moderation and sentiment: texts in, one result per text out, the tokens read counted. */
  private textTask<M extends keyof TextResults>(method: M, call: TextTaskCall, context: CallContext, outputText: (result: TextResults[M]) => string): Promise<TaskAnswer<TextResults[M]>> {
    type Result = TextResults[M];
    return this.run<Result>(
      {
        model: call.model,
        capability: method,
        inputText: call.inputs.join('\n'),
        run: async (candidate) => {
          const adapterMethod = this.backends.method(candidate, method) as (request: ClassificationRequest, options: CallOptions) => Promise<Result>;
          const result = await adapterMethod({ model: candidate.upstreamModel, inputs: call.inputs }, this.backends.callOptions(candidate, context));
          if (result.results.length !== call.inputs.length) {
            throw new SluiceError('upstream-unavailable', `${candidate.backendId} returned ${result.results.length} results for ${call.inputs.length} inputs`);
          }
          return result;
        },
        outputText,
        usageOf: (result) => result.usage,
      },
      context,
    );
  }

  private async run<T>(task: Task<T>, context: CallContext): Promise<TaskAnswer<T>> {
    const run = new RequestRun(context, task.inputText);
    try {
      const plan = this.policy.planModel(task.model ?? this.defaultModel(task.capability), [task.capability], context.tenant);
      const success = await runChain(
        plan.chain,
        async (candidate, timer) => {
          const result = await task.run(candidate, context);
          timer.markFirstToken();
          return result;
        },
        run.attempts,
        { signal: context.signal, routeOf: (candidate) => this.backends.routeOf(candidate), accountOf: () => ({}) },
      );
      const tokens = task.usageOf?.(success.value);
      const usage = tokens && { prompt_tokens: tokens.prompt_tokens, completion_tokens: 0, total_tokens: tokens.total_tokens };
      const served = success.timer.finish('answered', { costUsd: 0, usage, outputText: task.outputText(success.value) });
      run.attempts.push(served);
      return { result: success.value, record: run.finish(served) };
    } catch (error) {
      throw run.fail(error);
    }
  }

  /**
   * Whether a request naming `modelName` (or none) is one for a model configured here. OpenAI
   * serves POST /v1/moderations too: a name Sluice does not know (omni-moderation-latest), or no
   * name with no local moderation model configured, is still the vendor's, through the passthrough.
   */
  servesHere(capability: Capability, modelName: unknown): boolean {
    if (typeof modelName === 'string') return this.catalog.get(modelName) !== undefined;
    return this.catalog.models().some((model) => model.capabilities.includes(capability));
  }

  private defaultModel(capability: Capability): string {
    const model = this.catalog.models().find((candidate) => candidate.capabilities.includes(capability));
    if (!model) throw new SluiceError('invalid-request', `no model is configured for '${capability}'; name one in 'model'`, { param: 'model' });
    return model.id;
  }
}
