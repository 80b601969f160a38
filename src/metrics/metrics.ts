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
    help: 'Candidates that failed before another one answered.',
    labelNames: ['model', 'kind'] as const,
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

  readonly logRows = new Counter({
    name: 'sluice_inference_log_rows_total',
    help: 'Inference log rows, by outcome (appended, flushed, spilled).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /**
   * Gauges read at scrape time from whoever owns the figure (the budget ledger, the log), so a
   * scrape shows the shared Redis ledger, not just this instance's share of it.
   */
  observeAtScrape(sources: {
    budget?: () => Promise<{ scope: string; spentUsd: number; heldUsd: number; remainingUsd: number; capUsd: number }[]>;
    logBacklog?: () => { queued: number; spilled: number };
  }): void {
    const { budget, logBacklog } = sources;
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
