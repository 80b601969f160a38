import { SluiceError, type ChatCompletion, type ChatRequest } from '../../adapters/spec/index.js';
import { mayUseModel, type Tenant } from '../auth/tenant.js';
import { chatCostUsd } from '../budget/price-table.js';
import type { Config, ModelConfig } from '../config/schema.js';
import type { SluiceMetrics } from '../metrics/metrics.js';
import type { Attempt, RequestRecord } from '../pipeline/attempt.js';
import type { Backends } from '../pipeline/backends.js';
import { underHold, type BudgetStep, type Hold } from '../pipeline/budget-step.js';
import { outputTextOf } from '../pipeline/chunk-assembly.js';
import { estimateUsage } from '../pipeline/usage-estimate.js';
import { tokensOf } from '../quality/answer-view.js';
import type { QualityScorer } from '../quality/quality-scorer.js';
import type { ModelCatalog } from '../routing/model-catalog.js';
import type { ShadowLabelStore } from '../store/feedback-store.js';

/**
 * Who shadow calls are charged to: learning.shadow.max_monthly_usd is its cap (the scope
 * `tenant:sluice:shadow`), held atomically with the organisation's caps and the model's, so
 * shadow spend never passes any of them.
 */
const SHADOW_CALLER = 'sluice:shadow';

export interface ShadowSamplerOptions {
  sampleRate: number;
  /** The premium model answers are compared with. */
  modelId: string;
  maxMonthlyUsd: number;
  catalog: ModelCatalog;
  backends: Backends;
  /** Reserves and settles like a paid attempt: the organisation's caps, the shadow cap, the model's. */
  budget: BudgetStep;
  scorer: QualityScorer;
  labels: ShadowLabelStore;
  metrics: SluiceMetrics;
  /** 0..1; handed in so tests are deterministic. */
  draw?: () => number;
  onError?(error: unknown, requestId: string): void;
}

type Outcome = 'labelled' | 'skipped_budget' | 'skipped_not_allowed' | 'skipped_busy' | 'failed';

/** Shadow calls in flight at most; a draw beyond it is skipped, so a burst of local answers is not a burst of vendor calls. */
const MAX_IN_FLIGHT = 8;

/**
 * Shadow sampling (learning.shadow): a drawn share of local chat answers is sent again, after the
 * response and off its path, to the premium model; both answers are scored by the same quality
 * scorer and the pair is stored as a shadow label — labelled data about when local is good
 * enough. The premium call is reserved and settled like any paid attempt; one that does not fit
 * the budget is skipped, never run on credit.
 */
export class ShadowSampler {
  private readonly running = new Set<Promise<void>>();
  private isClosed = false;

  constructor(private readonly options: ShadowSamplerOptions) {}

  /** Sees a finished chat request; returns at once, the shadow call runs in the background. */
  observe(record: RequestRecord, request: ChatRequest, tenant: Tenant | undefined): void {
    const served = record.served;
    if (this.isClosed || !served || served.route !== 'local' || served.outcome !== 'answered' || served.outputText === undefined) return;
    if ((this.options.draw ?? Math.random)() >= this.options.sampleRate) return;
    if (this.running.size >= MAX_IN_FLIGHT) {
      this.options.metrics.shadowSamples.inc({ outcome: 'skipped_busy' });
      return;
    }
    const work = this.shadow(record, served, request, tenant)
      .then((outcome) => this.options.metrics.shadowSamples.inc({ outcome }))
      .catch((error: unknown) => {
        this.options.metrics.shadowSamples.inc({ outcome: 'failed' });
        this.options.onError?.(error, record.requestId);
      })
      .finally(() => this.running.delete(work));
    this.running.add(work);
  }

  /** Stops sampling and waits for the shadow calls in flight (shutdown, before adapters close). */
  async close(): Promise<void> {
    this.isClosed = true;
    await this.idle();
  }

  /** Resolves when every shadow call started so far has finished. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private async shadow(record: RequestRecord, served: Attempt, request: ChatRequest, tenant: Tenant | undefined): Promise<Outcome> {
    const { catalog, backends, modelId } = this.options;
    const model = catalog.get(modelId);
    if (!model || !backends.isAvailable(model.backend) || (tenant && !mayUseModel(tenant, modelId))) return 'skipped_not_allowed';
    const shadowRequest: ChatRequest = { ...request, model: model.upstream_model ?? model.id, stream: false, stream_options: undefined, n: 1 };
    const hold = await this.reserve(model, shadowRequest, record.requestId);
    if (!hold) return 'skipped_budget';
    const candidate = { modelId: model.id, backendId: model.backend, upstreamModel: model.upstream_model ?? model.id };
    const chat = backends.method(candidate, 'chat');
    let costUsd = 0;
    const completion = await underHold(
      hold,
      () => chat(shadowRequest, backends.callOptions(candidate, { requestId: `${record.requestId}_shadow`, signal: new AbortController().signal })),
      (answer: ChatCompletion) => (costUsd = (model.price && chatCostUsd(model.price, answer.usage ?? estimateUsage(shadowRequest.messages, outputTextOf(answer)))) ?? 0),
    );
    const premiumText = outputTextOf(completion);
    if (costUsd > 0) {
      this.options.metrics.shadowCostUsd.inc({ model: model.id }, costUsd);
      this.options.metrics.costUsd.inc({ route: 'shadow', model: model.id }, costUsd);
    }
    const [localScore, premiumScore] = await Promise.all([
      served.quality?.score ?? this.options.scorer.score(request, asCompletion(served)).then((verdict) => verdict.score),
      this.options.scorer.score(request, completion).then((verdict) => verdict.score),
    ]);
    await this.options.labels.save({
      requestId: record.requestId,
      tenant: tenant?.name,
      tier: record.tier,
      localModel: served.modelId,
      localScore,
      premiumModel: model.id,
      premiumScore,
      costUsd,
      agreement: wordOverlap(served.outputText ?? '', premiumText),
    });
    return 'labelled';
  }

  /** Holds the most the call can cost in the shadow scope and every cap over it, or undefined when it does not fit. */
  private async reserve(model: ModelConfig, request: ChatRequest, requestId: string): Promise<Hold | undefined> {
    const { budget, maxMonthlyUsd } = this.options;
    const caller: Tenant = { id: SHADOW_CALLER, name: SHADOW_CALLER, monthlyBudgetUsd: maxMonthlyUsd };
    try {
      return await budget.reserve(caller, model, budget.maxChatCostUsd(model, request), `${requestId}_shadow`);
    } catch (error) {
      if (error instanceof SluiceError && error.kind === 'budget-exceeded') return undefined;
      throw error;
    }
  }
}

/** The local answer as the scorer reads it; its finish reason was not kept, so it counts as complete. */
function asCompletion(served: Attempt): ChatCompletion {
  return {
    id: 'shadow-local',
    object: 'chat.completion',
    created: Math.floor(served.startedAt.getTime() / 1000),
    model: served.modelId,
    choices: [{ index: 0, message: { role: 'assistant', content: served.outputText ?? '', refusal: null }, finish_reason: 'stop', logprobs: null }],
  };
}

/** F1 of the two answers' word sets (case-folded): 1 for the same words, 0 for none shared. */
export function wordOverlap(left: string, right: string): number {
  const leftWords = new Set(tokensOf(left.toLowerCase()));
  const rightWords = new Set(tokensOf(right.toLowerCase()));
  if (leftWords.size === 0 && rightWords.size === 0) return 1;
  if (leftWords.size === 0 || rightWords.size === 0) return 0;
  let shared = 0;
  for (const word of leftWords) if (rightWords.has(word)) shared += 1;
  const precision = shared / leftWords.size;
  const recall = shared / rightWords.size;
  return shared === 0 ? 0 : Math.round(((2 * precision * recall) / (precision + recall)) * 1000) / 1000;
}

/** The sampler learning.shadow asks for; none when it is off, or when there is no store for its labels. */
export function shadowSamplerFor(
  config: Config,
  parts: Omit<ShadowSamplerOptions, 'sampleRate' | 'modelId' | 'maxMonthlyUsd' | 'labels'> & { labels?: ShadowLabelStore },
): ShadowSampler | undefined {
  const shadow = config.learning.shadow;
  if (!shadow.enabled || !parts.labels) return undefined;
  return new ShadowSampler({
    ...parts,
    labels: parts.labels,
    sampleRate: shadow.sample_rate,
    modelId: shadow.model ?? config.targets.baseline_model,
    maxMonthlyUsd: shadow.max_monthly_usd,
  });
}
