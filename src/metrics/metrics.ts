import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric Sluice exports, on a registry of its own (tests make several apps in one process). */
export class SluiceMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'sluice_requests_total',
    help: 'Requests answered, by endpoint, route, model and HTTP status.',
    labelNames: ['endpoint', 'route', 'model', 'tier', 'status'] as const,
    registers: [this.registry],
  });

  readonly latency = new Histogram({
    name: 'sluice_request_duration_seconds',
    help: 'Time from request to the last byte of the answer.',
    labelNames: ['endpoint', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly timeToFirstToken = new Histogram({
    name: 'sluice_time_to_first_token_seconds',
    help: 'Time from request to the first streamed chunk.',
    labelNames: ['route'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [this.registry],
  });

  readonly gatewayOverhead = new Histogram({
    name: 'sluice_gateway_overhead_seconds',
    help: "Time a request spent in Sluice itself: total latency minus the answering backend's time.",
    labelNames: ['endpoint'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  readonly answers = new Counter({
    name: 'sluice_answers_total',
    help: 'Answered model requests by where they were answered (local or vendor); local share = local / all.',
    labelNames: ['location'] as const,
    registers: [this.registry],
  });

  readonly tokens = new Counter({
    name: 'sluice_tokens_total',
    help: 'Tokens processed, by direction.',
    labelNames: ['route', 'model', 'direction'] as const,
    registers: [this.registry],
  });

  readonly costUsd = new Counter({
    name: 'sluice_cost_usd_total',
    help: 'Spend in US dollars, from the price table.',
    labelNames: ['route', 'model'] as const,
    registers: [this.registry],
  });

  readonly fallbacks = new Counter({
    name: 'sluice_fallbacks_total',
    help: 'Candidates that failed (the next one, if any, was tried), by error kind.',
    labelNames: ['model', 'kind'] as const,
    registers: [this.registry],
  });

  readonly escalations = new Counter({
    name: 'sluice_escalations_total',
    help: 'Answers that scored below the escalation threshold, so the next candidate was tried.',
    labelNames: ['model', 'tier'] as const,
    registers: [this.registry],
  });

  readonly budgetThresholds = new Counter({
    name: 'sluice_budget_threshold_crossings_total',
    help: 'Soft budget thresholds crossed, by scope and threshold fraction.',
    labelNames: ['scope', 'threshold'] as const,
    registers: [this.registry],
  });

  readonly budgetRefusals = new Counter({
    name: 'sluice_budget_refusals_total',
    help: 'Paid candidates skipped because their reservation did not fit the budget.',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  readonly feedback = new Counter({
    name: 'sluice_feedback_total',
    help: 'Ratings stored through POST /v1/feedback, by kind (up, down, or score for a 0..1 number).',
    labelNames: ['rating'] as const,
    registers: [this.registry],
  });

  readonly shadowSamples = new Counter({
    name: 'sluice_shadow_samples_total',
    help: 'Local answers drawn for shadow sampling, by outcome (labelled, skipped_budget, skipped_not_allowed, skipped_busy, failed).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly shadowCostUsd = new Counter({
    name: 'sluice_shadow_cost_usd_total',
    help: 'Spend on shadow calls to the premium model, in US dollars (also counted in sluice_cost_usd_total and the budget).',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  readonly logRows = new Counter({
    name: 'sluice_inference_log_rows_total',
    help: 'Inference log rows, by outcome (appended, flushed, spilled).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly driftScore = new Gauge({
    name: 'sluice_drift_score',
    help: 'Latest drift score per signal, recent window against baseline: KS distance (quality, latency), |z| (escalation_rate, error_rate), PSI (tier_mix, prompt_clusters), cosine distance (prompt_centroid).',
    labelNames: ['signal'] as const,
    registers: [this.registry],
  });

  readonly driftAlerts = new Counter({
    name: 'sluice_drift_alerts_total',
    help: 'Drift alerts raised, by signal: counted when a signal turns from stable to drifted.',
    labelNames: ['signal'] as const,
    registers: [this.registry],
  });

  /**
   * Gauges read at scrape time from whoever owns the figure (the budget ledger, the log), so a
   * scrape shows the shared Redis ledger, not just this instance's share of it.
   */
  observeAtScrape(sources: {
    budget?: () => Promise<{ scope: string; spentUsd: number; heldUsd: number; remainingUsd: number; capUsd: number }[]>;
    logBacklog?: () => { queued: number; spilled: number };
    localLoad?: () => { backend: string; active: number; queued: number }[];
  }): void {
    const { budget, logBacklog, localLoad } = sources;
    const answers = this.answers;
    new Gauge({
      name: 'sluice_local_share',
      help: 'Share of answered model requests served locally since start, 0..1 (the plan targets 0.8).',
      registers: [this.registry],
      async collect() {
        const values = (await answers.get()).values;
        const local = values.find((value) => value.labels.location === 'local')?.value ?? 0;
        const total = values.reduce((sum, value) => sum + value.value, 0);
        this.set(total === 0 ? 0 : local / total);
      },
    });
    new Gauge({
      name: 'sluice_local_queue_depth',
      help: 'Requests at a local backend, generating (active) and waiting (queued).',
      labelNames: ['backend', 'state'] as const,
      registers: [this.registry],
      collect() {
        for (const row of localLoad?.() ?? []) {
          this.set({ backend: row.backend, state: 'active' }, row.active);
          this.set({ backend: row.backend, state: 'queued' }, row.queued);
        }
      },
    });
    new Gauge({
      name: 'sluice_budget_usd',
      help: 'Budget per scope in the current period: cap, spent, held (reserved, in flight) and remaining.',
      labelNames: ['scope', 'kind'] as const,
      registers: [this.registry],
      async collect() {
        for (const row of (await budget?.()) ?? []) {
          this.set({ scope: row.scope, kind: 'cap' }, row.capUsd);
          this.set({ scope: row.scope, kind: 'spent' }, row.spentUsd);
          this.set({ scope: row.scope, kind: 'held' }, row.heldUsd);
          this.set({ scope: row.scope, kind: 'remaining' }, row.remainingUsd);
        }
      },
    });
    new Gauge({
      name: 'sluice_inference_log_backlog_rows',
      help: 'Inference log rows not yet in the database, in memory or spilled to disk.',
      labelNames: ['where'] as const,
      registers: [this.registry],
      collect() {
        const backlog = logBacklog?.();
        if (!backlog) return;
        this.set({ where: 'memory' }, backlog.queued);
        this.set({ where: 'disk' }, backlog.spilled);
      },
    });
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'sluice_process_' });
  }
}
