import type { ChatCompletion, ChatCompletionChunk, ChatRequest, Usage } from '../../adapters/spec/index.js';
import { SluiceError } from '../../adapters/spec/index.js';
export type { AnswerMeta } from './answer-meta.js';
import type { Tenant } from '../auth/tenant.js';
import { chatCostUsd, maxChatCostUsd } from '../budget/price-table.js';
import { underHold, type BudgetStep, type Hold } from './budget-step.js';
import { requiredCapabilities, type Candidate } from '../routing/candidates.js';
import type { ModelDirectory } from './candidate-plan.js';
import { callOptions, describeAnswer, type AnswerMeta } from './answer-meta.js';
import { runChain, toSluiceError } from './run-chain.js';
import { estimateUsage, messagesText } from './usage-estimate.js';

export interface CallContext {
  requestId: string;
  tenant: Tenant;
  signal: AbortSignal;
}

export interface StreamAnswer {
  meta: AnswerMeta;
  /** Client-facing chunks: the usage chunk only if the client asked for it. */
  chunks: AsyncIterable<ChatCompletionChunk>;
}

/** One way through for a chat request: resolve → chain → execute with fallback → cost. */
export class ChatPipeline {
  constructor(
    private readonly directory: ModelDirectory,
    private readonly budget: BudgetStep,
  ) {}

  async complete(request: ChatRequest, context: CallContext): Promise<{ completion: ChatCompletion; meta: AnswerMeta }> {
    const plan = this.directory.plan(request.model, requiredCapabilities(request), context.tenant, request);
    const success = await runChain(
      plan.chain,
      async (candidate) =>
        underHold(
          await this.reserve(request, candidate, context),
          async () => {
            const completion = await this.adapterFor(candidate).chat!(upstream(request, candidate), callOptions(this.directory, candidate, context));
            const outputText = outputTextOf(completion);
            return { completion, outputText, usage: completion.usage ?? estimateUsage(request.messages, outputText) };
          },
          (answer) => this.costOf(candidate.modelId, answer.usage),
        ),
      context.signal,
    );
    const { completion, outputText, usage } = success.value;
    const meta = describeAnswer(this.directory, success, plan);
    meta.outputText = outputText;
    return { completion, meta: this.withCost(meta, usage, completion.usage === undefined) };
  }

  async stream(request: ChatRequest, context: CallContext): Promise<StreamAnswer> {
    const plan = this.directory.plan(request.model, requiredCapabilities(request), context.tenant, request);
    // Peek before committing: until the first chunk arrives nothing was sent, so a failure
    // moves on to the next candidate and the headers name the model that really answered.
    const success = await runChain(
      plan.chain,
      async (candidate) => {
        const hold = await this.reserve(request, candidate, context);
        try {
          const iterator = this.adapterFor(candidate).chatStream!(upstream(request, candidate), callOptions(this.directory, candidate, context))[Symbol.asyncIterator]();
          const first = await iterator.next();
          if (first.done) throw new SluiceError('upstream-unavailable', `${candidate.backendId} sent an empty stream`);
          return { first: first.value, rest: iterator, hold };
        } catch (error) {
          await hold.release();
          throw error;
        }
      },
      context.signal,
    );
    const meta = describeAnswer(this.directory, success, plan);
    const wantsUsage = request.stream_options?.include_usage === true;
    const { first, rest, hold } = success.value;
    return { meta, chunks: this.relay(request, first, rest, meta, wantsUsage, hold, success.startedAt) };
  }

  /** Reserve the most this candidate can cost; a free model holds nothing. */
  private reserve(request: ChatRequest, candidate: Candidate, context: CallContext): Promise<Hold> {
    const model = this.directory.get(candidate.modelId);
    if (!model || !this.directory.isPaid(model.id)) return this.budget.reserve(context.tenant, undefined, 0, context.requestId);
    const promptTokens = Math.ceil(messagesText(request.messages).length / 3) + 8 * request.messages.length;
    const outputTokens = (request.max_completion_tokens ?? request.max_tokens ?? this.budget.defaultOutputTokens) * (request.n ?? 1);
    return this.budget.reserve(context.tenant, model, maxChatCostUsd(model.price, promptTokens, outputTokens), context.requestId);
  }

  private costOf(modelId: string, usage: Usage): number {
    const model = this.directory.get(modelId);
    return (model && chatCostUsd(model.price, usage)) ?? 0;
  }

  /** Passes chunks through, notes the usage, and fills in the cost when the stream ends. */
  private async *relay(
    request: ChatRequest,
    first: ChatCompletionChunk,
    rest: AsyncIterator<ChatCompletionChunk>,
    meta: AnswerMeta,
    wantsUsage: boolean,
    hold: Hold,
    startedAt: number,
  ): AsyncGenerator<ChatCompletionChunk> {
    let usage: Usage | undefined;
    let text = '';
    let last: ChatCompletionChunk = first;
    let current: IteratorResult<ChatCompletionChunk> = { done: false, value: first };
    try {
      while (!current.done) {
        const chunk = current.value;
        last = chunk;
        if (chunk.usage) usage = chunk.usage;
        for (const choice of chunk.choices) text += choice.delta.content ?? '';
        const isUsageOnly = chunk.choices.length === 0;
        if (!isUsageOnly) yield wantsUsage ? { ...chunk, usage: null } : withoutUsage(chunk);
        current = await rest.next();
      }
    } catch (error) {
      throw toSluiceError(error);
    } finally {
      // Completed, cut upstream or abandoned by the client: what was produced is what is charged.
      meta.upstreamMs = performance.now() - startedAt;
      meta.outputText = text;
      this.withCost(meta, usage ?? estimateUsage(request.messages, text), usage === undefined);
      await hold.settle(meta.costUsd ?? 0);
    }
    const finalUsage = meta.usage!;
    if (wantsUsage) yield { id: last.id, object: 'chat.completion.chunk', created: last.created, model: last.model, choices: [], usage: finalUsage, system_fingerprint: last.system_fingerprint };
  }

  private adapterFor(candidate: Candidate) {
    return this.directory.adapter(candidate.backendId);
  }

  private withCost(meta: AnswerMeta, usage: Usage, isEstimated: boolean): AnswerMeta {
    const model = this.directory.get(meta.modelId);
    meta.usage = usage;
    meta.costUsd = model ? chatCostUsd(model.price, usage) : undefined;
    meta.isCostEstimated = isEstimated;
    return meta;
  }
}

/** What the model said, for the log and for counting tokens: text, or tool calls as JSON. */
function outputTextOf(completion: ChatCompletion): string {
  return completion.choices
    .map((choice) => choice.message.content ?? (choice.message.tool_calls ? JSON.stringify(choice.message.tool_calls) : ''))
    .join('\n');
}

function upstream(request: ChatRequest, candidate: Candidate): ChatRequest {
  return { ...request, model: candidate.upstreamModel };
}

function withoutUsage(chunk: ChatCompletionChunk): ChatCompletionChunk {
  if (!('usage' in chunk)) return chunk;
  const { usage: _ignored, ...rest } = chunk;
  return rest;
}
