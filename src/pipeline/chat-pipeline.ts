import type { ChatCompletion, ChatCompletionChunk, ChatRequest, Usage } from '../../adapters/spec/index.js';
import { conversationText, SluiceError } from '../../adapters/spec/index.js';
import { chatCostUsd } from '../budget/price-table.js';
import type { QualityScorer, QualityVerdict } from '../quality/quality-scorer.js';
import { requiredCapabilities, type Candidate } from '../routing/candidates.js';
import type { ModelCatalog } from '../routing/model-catalog.js';
import type { CandidatePlan, RoutingPolicy } from '../routing/routing-policy.js';
import type { RoutingState } from '../routing/routing-state.js';
import type { CacheProbe } from '../cache/response-cache.js';
import { replayCompletion, type CacheStep, type ServedHit } from './cache-step.js';
import { headOf, outcomeOfFailure, type AnswerHead, type AttemptAccount, type AttemptTimer, type RequestRecord } from './attempt.js';
import type { Backends } from './backends.js';
import { underHold, type BudgetStep, type Hold } from './budget-step.js';
import { assembleCompletion, outputTextOf } from './chunk-assembly.js';
import { RequestRun, type CallContext } from './request-run.js';
import { clientClosed, runChain, toSluiceError, type ChainOptions, type ChainSuccess } from './run-chain.js';
import { estimateUsage } from './usage-estimate.js';
import type { ImageParts, ImagePlan } from './image-parts.js';
import { withIdleTimeout } from './stream-idle-timeout.js';
import { withheldChunks, withheldCompletion, type ModerationGuard } from './moderation-guard.js';
import { forLocalModel, type LocalAnswerSettings } from './local-answer.js';

export type { CallContext } from './request-run.js';

export interface ChatAnswer {
  completion: ChatCompletion;
  record: RequestRecord;
}

export interface StreamAnswer {
  /** Who is answering, for the headers that go out before the first chunk. */
  head: AnswerHead;
  /** Client-facing chunks: the usage chunk only if the client asked for it. */
  chunks: AsyncIterable<ChatCompletionChunk>;
}

export interface ChatPipelineParts {
  policy: RoutingPolicy;
  catalog: ModelCatalog;
  backends: Backends;
  budget: BudgetStep;
  routing: RoutingState;
  /** Scores the answers of `scoreBeforeServing` candidates; without it nothing is scored. */
  scorer?: QualityScorer;
  /** Answers repeats and paraphrases from earlier answers; without it every request reaches a model. */
  cache?: CacheStep;
  /** Image parts: remote URLs checked, and images read by OCR for a local model; without it they go as sent. */
  images?: ImageParts;
  /** The moderation guardrail (guardrails.moderation); without it nothing is moderated. */
  guard?: ModerationGuard;
  /** How routed requests are put to a local model (routing.local_answers); without it, as sent. */
  localAnswers?: LocalAnswerSettings;
}

interface Answered {
  completion: ChatCompletion;
  account: AttemptAccount;
}

/** A stream that has produced its first chunk (or, when it is scored, all of them). */
interface OpenedStream {
  first: ChatCompletionChunk;
  rest: AsyncIterator<ChatCompletionChunk>;
  hold: Hold;
  /** Known up front when the stream was drained to be scored before serving. */
  account?: AttemptAccount;
  /** What the drained chunks add up to: what the scorer reads. */
  completion?: ChatCompletion;
}

/**
 * One way through for a chat request: route → execute with fallback (and escalation of weak
 * answers) → account, each candidate tried leaving one attempt in the request's record.
 */
export class ChatPipeline {
  constructor(private readonly parts: ChatPipelineParts) {}

  async complete(asked: ChatRequest, context: CallContext): Promise<ChatAnswer> {
    const run = new RequestRun(context, conversationText(asked.messages));
    try {
      const { request, guardReason } = await this.screened(asked, context);
      const planned = this.plan(request, context, run, guardReason);
      const probe = guardReason ? {} : await this.lookUp(request, run);
      if (probe.served) return { completion: probe.served.completion, record: run.finish(probe.served.attempt) };
      const plan = await this.withImages(request, planned, context, run);
      const success = await runChain(plan.chain, (candidate, timer) => this.answer(this.requestFor(plan, candidate), candidate, context, timer), run.attempts, {
        ...this.chainOptions(plan, context),
        accountOf: (answer: Answered) => answer.account,
        judge: this.parts.scorer && ((answer: Answered) => this.parts.scorer!.score(request, answer.completion)),
      });
      run.routeReason = reasonFor(success.candidate, plan);
      // A local answer with nobody to escalate to is scored all the same: the report, the ramp and
      // the cache (which keeps no weak answer) read its score. Streams are not held back for it.
      const quality = success.quality ?? (this.parts.backends.isLocal(success.candidate.backendId) ? await this.scoreServed(request, success.value.completion) : undefined);
      const served = success.served ?? success.timer.finish('answered', { ...success.value.account, quality });
      if (!success.served) run.attempts.push(served);
      const flagged = await this.parts.guard?.screenOutput(outputTextOf(success.value.completion), context);
      if (flagged) {
        run.routeReason = withReason(run.routeReason, `guardrail:output-flagged(${flagged.join(',')})`);
        return { completion: withheldCompletion(success.value.completion), record: run.finish(served) };
      }
      this.remember(probe.probe, run, { ...success, quality }, success.value.completion, plan);
      return { completion: success.value.completion, record: run.finish(served) };
    } catch (error) {
      throw run.fail(error);
    }
  }

  async stream(asked: ChatRequest, context: CallContext): Promise<StreamAnswer> {
    const run = new RequestRun(context, conversationText(asked.messages));
    try {
      const { request, guardReason } = await this.screened(asked, context);
      const planned = this.plan(request, context, run, guardReason);
      const probe = guardReason ? {} : await this.lookUp(request, run);
      if (probe.served) return { head: headOf(run.finish(probe.served.attempt))!, chunks: replayCompletion(probe.served.completion, request.stream_options?.include_usage === true) };
      const plan = await this.withImages(request, planned, context, run);
      // Peek before committing: until the first chunk arrives nothing was sent, so a failure
      // moves on to the next candidate and the headers name the model that really answered.
      const success = await runChain(plan.chain, (candidate, timer) => this.open(this.requestFor(plan, candidate), candidate, context, timer), run.attempts, {
        ...this.chainOptions(plan, context),
        accountOf: (opened: OpenedStream) => opened.account ?? {},
        judge: this.parts.scorer && ((opened: OpenedStream) => this.parts.scorer!.score(request, opened.completion!)),
      });
      run.routeReason = reasonFor(success.candidate, plan);
      const flagged = success.value.completion && (await this.parts.guard?.screenOutput(outputTextOf(success.value.completion), context));
      if (flagged) {
        run.routeReason = withReason(run.routeReason, `guardrail:output-flagged(${flagged.join(',')})`);
        const [first, ...rest] = withheldChunks([success.value.first, ...(await drained(success.value.rest))]);
        success.value = { ...success.value, first: first!, rest: replay(rest) };
      }
      const head: AnswerHead = {
        route: success.timer.route,
        modelId: success.candidate.modelId,
        tier: run.tier,
        routeReason: run.routeReason,
        cache: run.cache,
        before: run.attempts.filter((attempt) => attempt !== success.served),
        quality: success.quality,
      };
      const keep = probe.probe && !flagged ? (completion: ChatCompletion) => this.remember(probe.probe, run, success, completion, plan) : undefined;
      return { head, chunks: this.relay(request, success, run, keep) };
    } catch (error) {
      throw run.fail(error);
    }
  }

  /** The cache's answer, when it has one; the probe, to keep a fresh answer with, when it may. */
  private async lookUp(request: ChatRequest, run: RequestRun): Promise<{ probe?: CacheProbe; served?: ServedHit }> {
    if (!this.parts.cache) return {};
    const startedAt = new Date();
    const startMs = performance.now();
    const probe = await this.parts.cache.probe(request, run);
    if (!probe?.hit) return { probe };
    const served = this.parts.cache.serve(probe.hit, startedAt, startMs);
    run.attempts.push(served.attempt);
    run.routeReason = probe.hit.similarity === undefined ? 'cache: exact' : `cache: semantic ${probe.hit.similarity.toFixed(3)}`;
    return { served };
  }

  /** A served answer's score, when a scorer is configured; its failure costs the caller nothing. */
  private async scoreServed(request: ChatRequest, completion: ChatCompletion): Promise<QualityVerdict | undefined> {
    try {
      return await this.parts.scorer?.score(request, completion);
    } catch {
      return undefined;
    }
  }

  private remember(probe: CacheProbe | undefined, run: RequestRun, success: ChainSuccess<unknown>, completion: ChatCompletion, plan: CandidatePlan): void {
    this.parts.cache?.remember(probe, run.context.requestId, completion, success.candidate.modelId, success.quality, this.parts.routing.escalationThreshold(plan.tier));
  }

  /** The plan with images in mind (image-parts.ts): read by OCR for a local model that cannot see them; after the cache, so a hit reads none. */
  private async withImages(request: ChatRequest, plan: CandidatePlan, context: CallContext, run: RequestRun): Promise<ImagePlan> {
    if (!this.parts.images) return { ...plan, requestFor: () => request };
    const prepared = await this.parts.images.prepare(request, plan, context);
    run.routeReason = prepared.routeReason;
    return prepared;
  }

  /** What `candidate` is sent: a routed request to a local model gets the tier's instruction and settings. */
  private requestFor(plan: ImagePlan, candidate: Candidate): ChatRequest {
    const request = plan.requestFor(candidate);
    const isRoutedLocal = plan.tier !== undefined && this.parts.localAnswers && this.parts.backends.isLocal(candidate.backendId);
    return isRoutedLocal ? forLocalModel(request, plan.tier!, this.parts.localAnswers!) : request;
  }

  /** The request as the guardrail lets it through: refused (it throws), sent to another model (with why), or as asked. */
  private async screened(request: ChatRequest, context: CallContext): Promise<{ request: ChatRequest; guardReason?: string }> {
    const routed = await this.parts.guard?.screenInput(request, context);
    return routed ? { request: { ...request, model: routed.model }, guardReason: routed.reason } : { request };
  }

  private plan(request: ChatRequest, context: CallContext, run: RequestRun, guardReason?: string): CandidatePlan {
    this.parts.images?.check(request);
    // A caller who asks for local is not held back by the rollout (a draw of 0 is always inside it).
    const draw = context.routeHint === 'local' ? 0 : undefined;
    const planned = this.parts.policy.planChat(request, this.parts.images?.needs(request) ?? requiredCapabilities(request), context.tenant, draw);
    const hinted = context.routeHint && planned.tier ? `${planned.routeReason ?? ''};hint:${context.routeHint}` : planned.routeReason;
    const routeReason = guardReason ? withReason(guardReason, hinted) : hinted;
    const plan = { ...planned, chain: this.hinted(planned, request, context), routeReason };
    run.tier = plan.tier;
    run.routeReason = plan.routeReason;
    return plan;
  }

  /** The caller's hints applied: a routed request's chain local-first or vendors only; candidates over the cost cap left out. */
  private hinted(plan: CandidatePlan, request: ChatRequest, context: CallContext): readonly Candidate[] {
    let chain = plan.chain;
    const isLocal = (candidate: Candidate) => this.parts.backends.isLocal(candidate.backendId);
    if (plan.tier && context.routeHint === 'vendor') chain = chain.filter((candidate) => !isLocal(candidate));
    if (plan.tier && context.routeHint === 'local') chain = [...chain.filter(isLocal), ...chain.filter((candidate) => !isLocal(candidate))];
    if (context.maxCostUsd !== undefined) chain = chain.filter((candidate) => this.maxCostOf(request, candidate) <= context.maxCostUsd!);
    if (chain.length > 0) return chain;
    const why = context.maxCostUsd !== undefined ? `can answer for at most $${context.maxCostUsd} (x-sluice-max-cost-usd)` : 'is a vendor (x-sluice-route-hint: vendor)';
    throw new SluiceError('invalid-request', `no model for '${request.model}' ${why}`, { param: context.maxCostUsd !== undefined ? 'x-sluice-max-cost-usd' : 'x-sluice-route-hint' });
  }

  private chainOptions(plan: CandidatePlan, context: CallContext): Pick<ChainOptions<unknown>, 'signal' | 'routeOf' | 'threshold'> {
    return {
      signal: context.signal,
      routeOf: (candidate) => this.parts.backends.routeOf(candidate),
      threshold: this.parts.routing.escalationThreshold(plan.tier),
    };
  }

  private async answer(request: ChatRequest, candidate: Candidate, context: CallContext, timer: AttemptTimer): Promise<Answered> {
    const chat = this.parts.backends.method(candidate, 'chat');
    return underHold(
      await this.reserve(request, candidate, context),
      async () => {
        const completion = await chat(upstream(request, candidate), this.parts.backends.callOptions(candidate, context));
        timer.markFirstToken();
        const outputText = outputTextOf(completion);
        return { completion, account: this.accountFor(candidate, request, outputText, completion.usage) };
      },
      (answer) => answer.account.costUsd ?? 0,
    );
  }

  private async open(request: ChatRequest, candidate: Candidate, context: CallContext, timer: AttemptTimer): Promise<OpenedStream> {
    const chatStream = this.parts.backends.method(candidate, 'chatStream');
    const hold = await this.reserve(request, candidate, context);
    try {
      const iterator = withIdleTimeout((call) => chatStream(upstream(request, candidate), call), this.parts.backends.callOptions(candidate, context), candidate.backendId);
      const isScored = candidate.scoreBeforeServing && this.parts.scorer;
      if (isScored || this.parts.guard?.screensOutput(context.tenant)) return await this.drain(request, candidate, iterator, hold, timer);
      const first = await iterator.next();
      if (first.done) throw new SluiceError('upstream-unavailable', `${candidate.backendId} sent an empty stream`);
      timer.markFirstToken();
      return { first: first.value, rest: iterator, hold };
    } catch (error) {
      await hold.release();
      throw error;
    }
  }

  /** A scored stream is read to its end before the client sees any of it, then replayed. */
  private async drain(request: ChatRequest, candidate: Candidate, iterator: AsyncIterator<ChatCompletionChunk>, hold: Hold, timer: AttemptTimer): Promise<OpenedStream> {
    const chunks: ChatCompletionChunk[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      timer.markFirstToken();
      chunks.push(next.value);
    }
    if (chunks.length === 0) throw new SluiceError('upstream-unavailable', `${candidate.backendId} sent an empty stream`);
    const completion = assembleCompletion(chunks);
    const account = this.accountFor(candidate, request, outputTextOf(completion), completion.usage);
    await hold.settle(account.costUsd ?? 0);
    return { first: chunks[0], rest: replay(chunks.slice(1)), hold: SETTLED, account, completion };
  }

  /**
   * Passes chunks through, then, however the stream ends — completed, cut upstream, or abandoned
   * by the client — settles what was produced and records the attempt, before the usage chunk.
   */
  private async *relay(request: ChatRequest, success: ChainSuccess<OpenedStream>, run: RequestRun, keep?: (completion: ChatCompletion) => void): AsyncGenerator<ChatCompletionChunk> {
    const { candidate, timer, value: opened } = success;
    // Only a stream whose answer may be cached keeps its chunks: the cache stores what they add up to.
    const kept: ChatCompletionChunk[] | undefined = keep && !opened.completion ? [] : undefined;
    const wantsUsage = request.stream_options?.include_usage === true;
    let usage: Usage | undefined;
    let text = '';
    let last = opened.first;
    let failure: SluiceError | undefined;
    let isComplete = false;
    try {
      for (let current: IteratorResult<ChatCompletionChunk> = { done: false, value: opened.first }; !current.done; current = await opened.rest.next()) {
        const chunk = current.value;
        last = chunk;
        kept?.push(chunk);
        if (chunk.usage) usage = chunk.usage;
        for (const choice of chunk.choices) text += deltaText(choice.delta);
        const isUsageOnly = chunk.choices.length === 0;
        if (!isUsageOnly) yield wantsUsage ? { ...chunk, usage: null } : withoutUsage(chunk);
      }
      isComplete = true;
    } catch (error) {
      failure = run.context.signal.aborted ? clientClosed() : toSluiceError(error);
      throw failure;
    } finally {
      // After the first byte there is no silent switch: what was produced is what is charged.
      if (!isComplete) await opened.rest.return?.().catch(() => undefined);
      const account = opened.account ?? this.accountFor(candidate, request, text, usage);
      await opened.hold.settle(account.costUsd ?? 0);
      const outcome = isComplete ? 'answered' : failure ? outcomeOfFailure(failure) : 'abandoned';
      const served = success.served ?? timer.finish(outcome, { ...account, quality: success.quality, error: failure });
      if (!success.served) run.attempts.push(served);
      run.finish(served, isComplete ? undefined : (failure ?? clientClosed()));
      if (isComplete) keep?.(opened.completion ?? assembleCompletion(kept!));
    }
    const finalUsage = opened.account?.usage ?? usage ?? estimateUsage(request.messages, text);
    if (wantsUsage) yield { id: last.id, object: 'chat.completion.chunk', created: last.created, model: last.model, choices: [], usage: finalUsage, system_fingerprint: last.system_fingerprint };
  }

  /** Reserve the most this candidate can cost; a free model holds nothing. */
  private reserve(request: ChatRequest, candidate: Candidate, context: CallContext): Promise<Hold> {
    const model = this.parts.catalog.get(candidate.modelId);
    if (!model || !this.parts.catalog.isPaid(model.id)) return this.parts.budget.reserve(context.tenant, undefined, 0, context.requestId);
    return this.parts.budget.reserve(context.tenant, model, this.maxCostOf(request, candidate), context.requestId);
  }

  /** The most this candidate can cost for this request: what is reserved, and what a cost cap compares. */
  private maxCostOf(request: ChatRequest, candidate: Candidate): number {
    const model = this.parts.catalog.get(candidate.modelId);
    if (!model || !this.parts.catalog.isPaid(model.id)) return 0;
    return this.parts.budget.maxChatCostUsd(model, request);
  }

  /** The one place a chat attempt's cost is computed: the settle, the header and the log read it. */
  private accountFor(candidate: Candidate, request: ChatRequest, outputText: string, reported: Usage | undefined): AttemptAccount {
    const usage = reported ?? estimateUsage(request.messages, outputText);
    const price = this.parts.catalog.get(candidate.modelId)?.price;
    return { usage, outputText, costUsd: price ? chatCostUsd(price, usage) : undefined, isCostEstimated: reported === undefined };
  }
}

/** A settle already made (a drained stream): the relay's settle changes nothing. */
const SETTLED: Hold = { settle: async () => false, release: async () => false };

/** A free model that answered only because the paid ones did not fit the budget says so. */
function reasonFor(candidate: Candidate, plan: CandidatePlan): string | undefined {
  return candidate.onlyIfBudgetExceeded ? 'budget' : plan.routeReason;
}

async function* replay(chunks: readonly ChatCompletionChunk[]): AsyncGenerator<ChatCompletionChunk> {
  yield* chunks;
}

/** The rest of a drained stream (a replay): its chunks. */
async function drained(rest: AsyncIterator<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for (let next = await rest.next(); !next.done; next = await rest.next()) chunks.push(next.value);
  return chunks;
}

function withReason(reason: string | undefined, more: string | undefined): string | undefined {
  return reason && more ? `${reason};${more}` : (reason ?? more);
}

function upstream(request: ChatRequest, candidate: Candidate): ChatRequest {
  return { ...request, model: candidate.upstreamModel };
}

function deltaText(delta: ChatCompletionChunk['choices'][number]['delta']): string {
  let text = delta.content ?? '';
  for (const call of delta.tool_calls ?? []) text += (call.function?.name ?? '') + (call.function?.arguments ?? '');
  return text;
}

function withoutUsage(chunk: ChatCompletionChunk): ChatCompletionChunk {
  if (!('usage' in chunk)) return chunk;
  const { usage: _ignored, ...rest } = chunk;
  return rest;
}
