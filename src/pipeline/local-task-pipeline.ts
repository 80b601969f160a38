import type { CallOptions, Capability, ClassificationRequest, ClassificationResult, ModerationResult, OcrRequest, OcrResult } from '../../adapters/spec/index.js';
import { SluiceError } from '../../adapters/spec/index.js';
import type { ModelConfig } from '../config/schema.js';
import { embeddingScorer, type RelevanceScorer, type RelevanceScores } from '../quality/relevance-scorer.js';
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

/** A query and the texts to rank by it; `model` absent or unknown: the default local reranker. */
export interface RerankCall {
  model?: string;
  query: string;
  documents: string[];
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

  /**
   * Each document's relevance to the query, in [0, 1], in the documents' order, by the model the
   * call names when it can rerank (a cross-encoder, or a local embedding model by cosine), else by
   * the default: the first cross-encoder that has its weights, else the local embedding model. A
   * client written for Cohere sends `rerank-english-v3.0`: that is the default's to answer.
   */
  rerank(call: RerankCall, context: CallContext): Promise<TaskAnswer<RelevanceScores>> {
    const inputText = [call.query, ...call.documents].join('\n');
    let model: ModelConfig;
    try {
      model = this.rerankerFor(call.model);
    } catch (error) {
      // Refused before any model ran: still one record, as a failed plan is in run().
      return Promise.reject(new RequestRun(context, inputText).fail(error));
    }
    const capability = model.capabilities.includes('rerank') ? 'rerank' : 'embed';
    return this.run<RelevanceScores>(
      {
        model: model.id,
        capability,
        inputText,
        run: async (candidate) => {
          const scored = await this.scorerOf(candidate, capability, context)(call.query, call.documents);
          if (scored.scores.length !== call.documents.length) {
            throw new SluiceError('upstream-unavailable', `${candidate.backendId} returned ${scored.scores.length} scores for ${call.documents.length} documents`);
          }
          return scored;
        },
        outputText: (result) => result.scores.map((score) => score.toFixed(4)).join('\n'),
        usageOf: (result) => ({ prompt_tokens: result.promptTokens, total_tokens: result.promptTokens }),
      },
      context,
    );
  }

  /** A cross-encoder answers through its adapter; an embedding model through the shared cosine scorer. */
  private scorerOf(candidate: Candidate, capability: 'rerank' | 'embed', context: CallContext): RelevanceScorer {
    const options = this.backends.callOptions(candidate, context);
    if (capability === 'rerank') {
      const rerank = this.backends.method(candidate, 'rerank');
      return async (query, documents) => {
        const result = await rerank({ model: candidate.upstreamModel, query, documents: [...documents] }, options).catch((error: unknown) => Promise.reject(asRerankParam(error, 'documents')));
        return { scores: result.scores, promptTokens: result.usage.prompt_tokens };
      };
    }
    const embed = this.backends.method(candidate, 'embed');
    return embeddingScorer(async (texts, role) => {
      const result = await embed({ model: candidate.upstreamModel, input: { kind: 'text', values: texts } }, options).catch((error: unknown) => Promise.reject(asRerankParam(error, role)));
      return { vectors: result.vectors, promptTokens: result.usage.prompt_tokens };
    });
  }

  /** The model named when it can rerank; else the default (rerank docs above). */
  private rerankerFor(name: string | undefined): ModelConfig {
    const models = this.catalog.models();
    const named = name === undefined ? undefined : this.catalog.get(name);
    if (named) {
      if (named.capabilities.includes('rerank') || this.isLocalEmbedder(named)) return named;
      throw new SluiceError('invalid-request', `the model '${named.id}' cannot rerank; name a rerank or local embedding model, or none for the default`, { param: 'model' });
    }
    const crossEncoders = models.filter((model) => model.capabilities.includes('rerank') && this.catalog.isAvailable(model.backend));
    const fallback = crossEncoders.find((model) => this.backends.canServe(model.backend)) ?? models.find((model) => this.isLocalEmbedder(model)) ?? crossEncoders[0];
    if (!fallback) throw new SluiceError('invalid-request', "no model is configured for 'rerank'; configure a cross-encoder or a local embedding model", { param: 'model' });
    return fallback;
  }

  private isLocalEmbedder(model: ModelConfig): boolean {
    return model.capabilities.includes('embed') && this.catalog.isLocal(model.id);
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

/** The ONNX models' input limits name `input`; in a rerank request the text is the query or a document. */
function asRerankParam(error: unknown, role: 'query' | 'documents'): unknown {
  if (!(error instanceof SluiceError) || error.kind !== 'invalid-request' || error.detail.param !== 'input') return error;
  return new SluiceError('invalid-request', `${role}: ${error.message}`, { ...error.detail, param: role });
}
