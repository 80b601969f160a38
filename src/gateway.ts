import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ADAPTER_FACTORIES } from '../adapters/registry.js';
import type { Adapter } from '../adapters/spec/index.js';
import { KeyStore } from './auth/key-store.js';
import { errorSecrets } from './auth/secret-scrubber.js';
import { OPEN_TENANT } from './auth/tenant.js';
import type { Config } from './config/schema.js';
import { SluiceMetrics } from './metrics/metrics.js';
import { Backends, capabilityProblems } from './pipeline/backends.js';
import { createResponseCache } from './cache/create-response-cache.js';
import { CacheStep } from './pipeline/cache-step.js';
import { ChatPipeline } from './pipeline/chat-pipeline.js';
import { createAnswerScorer } from './quality/answer-scorer.js';
import { shippedCalibration } from './quality/calibration.js';
import { EmbeddingsPipeline } from './pipeline/embeddings-pipeline.js';
import { TranscriptionPipeline } from './pipeline/transcription-pipeline.js';
import { LocalTaskPipeline } from './pipeline/local-task-pipeline.js';
import { ModerationGuard } from './pipeline/moderation-guard.js';
import { ImageParts } from './pipeline/image-parts.js';
import { decodeImageString, sniffedImage } from './server/image-input.js';
import { createApp } from './server/app.js';
import { answerClientError } from './server/client-error.js';
import { renderPassthroughCharge } from './server/request-outcome.js';
import { createBudgetGuard } from './budget/create-budget-guard.js';
import { MemoryRateLimiter, RedisRateLimiter } from './auth/rate-limiter.js';
import { BudgetPressure } from './budget/budget-pressure.js';
import { thresholdWebhook } from './budget/threshold-webhook.js';
import { BudgetStep } from './pipeline/budget-step.js';
import type { InferenceLog } from './store/inference-log.js';
import type { FeedbackStore, ShadowLabelStore } from './store/feedback-store.js';
import { shadowSamplerFor } from './learning/shadow-sampler.js';
import type { EmbeddingStore } from './store/embedding-store.js';
import { VectorPipeline } from './pipeline/vector-pipeline.js';
import { liveSavingsReports } from './learning/savings-report.js';
import { liveDashboard } from './dashboard/live-dashboard.js';
import type { SqlSession } from './store/sql-database.js';
import { ModelCatalog } from './routing/model-catalog.js';
import { TierRouter } from './routing/router.js';
import { RoutingPolicy } from './routing/routing-policy.js';
import { RolloutRamp } from './routing/rollout-ramp.js';
import { RoutingState } from './routing/routing-state.js';
import { DriftMonitor, driftPromptEmbedder } from './learning/drift-monitor.js';
import { configSettings, startOptimizer } from './learning/optimizer-job.js';

export interface Gateway {
  app: ReturnType<typeof createApp>;
  adapters: ReadonlyMap<string, Adapter>;
  metrics: SluiceMetrics;
  /** Drift detection (learning.drift); none when it is off. */
  drift?: DriftMonitor;
  /** The live routing settings (local share, escalation thresholds). */
  routing: RoutingState;
  /** Resolves when every adapter reports ready. */
  ready: Promise<void>;
  listen(port?: number, host?: string): Promise<Server>;
  close(): Promise<void>;
}

/** Backends whose keys are missing are left out: a vendor with no key is not a candidate. */
export function createAdapters(config: Config, logger: Logger): Map<string, Adapter> {
  const adapters = new Map<string, Adapter>();
  for (const [id, backend] of Object.entries(config.backends)) {
    const factory = ADAPTER_FACTORIES[backend.type];
    if (!factory) throw new Error(`backends.${id}.type: unknown backend type "${backend.type}"`);
    if (backend.requires_key && !backend.api_key) {
      logger.info({ backend: id, needs: backend.api_key_env }, 'backend has no key: not a candidate');
      continue;
    }
    adapters.set(
      id,
      factory({
        id,
        type: backend.type,
        baseUrl: backend.base_url,
        apiKey: backend.api_key,
        timeoutMs: backend.timeout_ms,
        options: backend.options,
        paths: { modelsDir: config.paths.models_dir, dataDir: config.paths.data_dir },
        log: (level, message, fields) => logger[level]({ backend: id, ...fields }, message),
      }),
    );
  }
  return adapters;
}

/** The composition root's pure half: everything wired, nothing listening yet. */
export interface GatewayParts {
  /** Where each request's attempts are recorded; none in tests that do not look at it. */
  inferenceLog?: InferenceLog;
  /** Closed after the log has flushed, on shutdown; its feedback store serves POST /v1/feedback. */
  store?: { close(): Promise<void>; feedback?: FeedbackStore; shadowLabels?: ShadowLabelStore; database?: SqlSession };
  /** The `embeddings` table: `x-sluice-store` and /v1/vector/search answer 503 without it. */
  embeddings?: EmbeddingStore;
}

export function buildGateway(config: Config, logger: Logger, adapters = createAdapters(config, logger), parts: GatewayParts = {}): Gateway {
  const metrics = new SluiceMetrics();
  const notify = config.budget.webhook_url
    ? thresholdWebhook(config.budget.webhook_url, (error) => logger.warn({ err: error.message }, 'budget webhook failed'))
    : undefined;
  const budget = createBudgetGuard({
    redisUrl: config.storage.redis_url,
    onConnectionError: (error) => logger.warn({ err: error.message }, 'redis connection trouble'),
    timeZone: config.budget.time_zone,
    thresholds: config.budget.soft_thresholds,
    defaultHoldTtlSeconds: config.budget.reservation_ttl_seconds,
    onThreshold: (crossing) => {
      logger.warn({ scope: crossing.scope, period: crossing.periodKey, threshold: crossing.threshold, spentUsd: crossing.spentUsd, capUsd: crossing.capUsd }, 'budget threshold crossed');
      metrics.budgetThresholds.inc({ scope: crossing.scope, threshold: String(crossing.threshold) });
      void notify?.(crossing);
      void pressure.refresh();
    },
  });
  const budgetStep = new BudgetStep(budget.guard, config.budget);
  const pressure = new BudgetPressure(() => budget.guard.snapshot(budgetStep.globalScopes()), (error) => logger.warn({ err: error.message }, 'budget pressure not read'));
  void budget.ready.then(() => pressure.start(PRESSURE_REFRESH_MS), () => {});
  metrics.observeAtScrape({
    budget: () => budget.guard.snapshot([{ scope: 'global', capUsd: config.budget.monthly_usd }]),
    logBacklog: parts.inferenceLog ? () => parts.inferenceLog!.pending : undefined,
    localLoad: () => backends.load(),
  });
  const problems = capabilityProblems(config.models, adapters);
  if (problems.length > 0) throw new Error(`config: ${problems.join('; ')}`);
  const backends = new Backends(adapters, Object.fromEntries(Object.entries(config.backends).map(([id, backend]) => [id, backend.timeout_ms])));
  const catalog = new ModelCatalog(config.models, config.routing.auto_aliases, backends);
  // The router reads its classifier from this holder, so an applied optimizer proposal can swap it.
  const classifier = TierRouter.liveClassifierFor(config.routing.classifier);
  const routing = new RoutingState(
    {
      localShare: config.routing.local_share,
      escalationThresholds: configSettings(config).escalation_thresholds,
    },
    classifier,
  );
  routing.onChange((change) => logger.info({ ...change }, 'routing setting changed'));
  // The applied optimizer proposal first, so the ramp starts from its local_share.
  const optimizer = startOptimizer(config, routing, logger, parts.store?.database, parts.inferenceLog && (() => parts.inferenceLog!.flush()));
  const ramp = config.routing.ramp.enabled ? new RolloutRamp(routing, config.routing.ramp) : undefined;
  // With the ramp on, it alone moves local_share (it already steps down on failing local answers);
  // two controllers on one setting would undo each other. Drift then only alerts.
  const drift = config.learning.drift.enabled
    ? new DriftMonitor({ settings: config.learning.drift, qualityTarget: config.targets.quality, logger, metrics, routing: ramp ? undefined : routing, embed: driftPromptEmbedder(config, adapters) })
    : undefined;
  drift?.start();
  // One scorer judges local answers on the request path and shadow pairs off it.
  const scorer = createAnswerScorer({ calibration: shippedCalibration(config.quality.calibration) });
  const shadow = shadowSamplerFor(config, {
    catalog,
    backends,
    budget: budgetStep,
    scorer,
    labels: parts.store?.shadowLabels,
    metrics,
    onError: (error, requestId) => logger.warn({ requestId, err: (error as Error).message }, 'shadow sample failed'),
  });
  const policy = new RoutingPolicy(catalog, new TierRouter(config.routing.tiers, catalog, classifier), routing, {
    tiers: config.routing.tiers,
    onBudgetExceeded: config.budget.on_exceeded,
    validatesLocal: true,
    keyVariableOf: (backendId) => config.backends[backendId]?.api_key_env,
    budgetShift: { pressure, at: config.budget.shift_at },
    localQueue: { expectedWaitMs: (backendId) => backends.expectedWaitMs(backendId), maxWaitMs: config.routing.max_local_wait_ms },
  });
  const embeddings = new EmbeddingsPipeline(policy, catalog, backends, budgetStep, { settings: config.images, fromBytes: (data, param) => sniffedImage(data, 'image', param) });
  const responses = createResponseCache(config, adapters, logger);
  const grantableModels = new Set([...config.models.map((model) => model.id), ...config.routing.auto_aliases, '*']);
  const keys = new KeyStore(config.auth.keys, config.auth.master_key, join(config.paths.data_dir, 'keys.json'), grantableModels, { pepper: config.auth.key_pepper });
  // Whatever a vendor or a parser quotes back, these never reach a caller in an error (SECURITY.md).
  errorSecrets.add([config.auth.master_key, config.auth.key_pepper, config.storage.supabase_service_role_key, ...Object.values(config.backends).map((backend) => backend.api_key)]);
  if (keys.unverifiableKeys.length > 0) {
    logger.warn({ keys: keys.unverifiableKeys, pepper: keys.pepperSource }, 'keys.json holds keys hashed under another pepper (changed master key or SLUICE_KEY_PEPPER): they will be refused');
  }
  if (keys.isOpen) logger.warn('no API keys configured: the gateway is OPEN to anyone who can reach it (set SLUICE_MASTER_KEY or auth.keys)');

  const pending = new Set<string>();
  const failures = new Map<string, string>();
  const waitFor = async (id: string, isReady: Promise<void>) => {
    pending.add(id);
    try {
      await isReady;
    } catch (error) {
      failures.set(id, (error as Error).message);
      logger.error({ component: id, err: error }, 'failed to start');
    } finally {
      pending.delete(id);
    }
  };
  const ready = Promise.all([
    waitFor('budget-ledger', budget.ready),
    ...[...adapters.values()].map(async (adapter) => {
      if (!adapter.ready) return;
      pending.add(adapter.id);
      try {
        await adapter.ready();
      } catch (error) {
        failures.set(adapter.id, (error as Error).message);
        logger.error({ backend: adapter.id, err: error }, 'backend failed to start');
      } finally {
        pending.delete(adapter.id);
      }
    }),
  ]).then(() => undefined);

  const passthroughBackend = config.backends[config.passthrough.backend];
  const tasks = new LocalTaskPipeline(policy, catalog, backends);
  const app = createApp({
    logger,
    metrics,
    keys,
    hasMasterKey: Boolean(config.auth.master_key),
    catalog,
    chat: new ChatPipeline({
      policy,
      catalog,
      backends,
      budget: budgetStep,
      routing,
      scorer,
      cache: responses && new CacheStep(responses, { maxTemperature: config.cache.max_temperature }),
      images: new ImageParts({ settings: config.images, catalog, backends, decoding: { fromDataUrl: decodeImageString, fromBytes: sniffedImage } }),
      guard: moderationGuard(config, catalog, tasks),
      localAnswers: config.routing.local_answers,
    }),
    responses,
    reports: liveSavingsReports(parts.store?.database, config, parts.inferenceLog && (() => parts.inferenceLog!.flush())),
    dashboard: liveDashboard(parts.store?.database, config, {
      flush: parts.inferenceLog && (() => parts.inferenceLog!.flush()),
      ledgerSpentUsd: async () => (await budget.guard.snapshot([{ scope: 'global', capUsd: config.budget.monthly_usd }]))[0]?.spentUsd,
      driftAlerts: drift && (() => drift.recentAlerts()),
    }),
    optimize: optimizer && ((command) => optimizer.control.run(command)),
    onChatRecord:
      ramp || shadow || drift
        ? (record, seen) => {
            ramp?.observe(record);
            drift?.observe(record);
            shadow?.observe(record, seen.request, seen.tenant);
          }
        : undefined,
    embeddings,
    vectors: new VectorPipeline(catalog, embeddings, parts.embeddings),
    transcriptions: new TranscriptionPipeline(policy, catalog, backends, budgetStep),
    tasks,
    inferenceLog: parts.inferenceLog,
    feedback: parts.store?.feedback,
    rateLimiter: budget.redis ? new RedisRateLimiter(budget.redis) : new MemoryRateLimiter(),
    readiness: {
      notReadyReason: () => {
        if (pending.size === 0 && failures.size === 0) return undefined;
        return Object.fromEntries([...[...pending].map((id) => [id, 'loading']), ...[...failures].map(([id, message]) => [id, `failed: ${message}`])]);
      },
    },
    passthrough:
      passthroughBackend?.base_url && adapters.has(config.passthrough.backend)
        ? {
            backendId: config.passthrough.backend,
            baseUrl: passthroughBackend.base_url,
            apiKey: passthroughBackend.api_key,
            timeoutMs: passthroughBackend.timeout_ms,
            organization: stringOption(passthroughBackend.options.organization),
            project: stringOption(passthroughBackend.options.project),
            models: config.models,
            budget: budgetStep,
            limits: { maxBytes: config.server.json_limit_bytes, maxDepth: config.server.json_max_depth, maxObjectKeys: config.server.json_max_object_keys },
            onCharge: (charge) => renderPassthroughCharge({ logger, metrics, inferenceLog: parts.inferenceLog }, charge, config.passthrough.backend),
          }
        : undefined,
    cors: { allowedOrigins: config.server.cors.allowed_origins, allowCredentials: config.server.cors.allow_credentials, maxAgeSeconds: config.server.cors.max_age_seconds },
    limits: {
      jsonBytes: config.server.json_limit_bytes,
      uploadBytes: config.server.body_limit_bytes,
      jsonMaxDepth: config.server.json_max_depth,
      jsonMaxObjectKeys: config.server.json_max_object_keys,
    },
  });

  let server: Server | undefined;
  return {
    app,
    adapters,
    metrics,
    drift,
    routing,
    ready,
    listen(port = config.server.port, host = config.server.host) {
      const { headers_timeout_ms: headersTimeoutMs, request_timeout_ms: requestTimeoutMs } = config.server;
      return new Promise((resolve, reject) => {
        const listening = createServer(
          {
            headersTimeout: headersTimeoutMs,
            requestTimeout: requestTimeoutMs,
            // Node looks for overdue requests only this often (30 s by default): a quarter of the
            // shorter deadline keeps the 408 within 25% of it.
            connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(headersTimeoutMs / 4))),
          },
          app,
        );
        listening.keepAliveTimeout = 65_000;
        listening.on('clientError', answerClientError({ headersTimeoutMs, requestTimeoutMs }));
        listening.once('error', reject);
        listening.listen(port, host, () => resolve(listening));
        server = listening;
      });
    },
    async close() {
      if (server) {
        const closing = new Promise<void>((resolve) => server!.close(() => resolve()));
        server.closeIdleConnections();
        const grace = setTimeout(() => server?.closeAllConnections(), config.server.shutdown_grace_ms);
        await closing;
        clearTimeout(grace);
      }
      await shadow?.close(); // its calls use the adapters and the store, closed below
      await drift?.stop();
      optimizer?.stop();
      await responses?.close();
      await Promise.all([...adapters.values()].map((adapter) => adapter.close()));
      // Only now, with every request finished: flush the log into the database, then close it.
      await parts.inferenceLog?.close();
      await parts.store?.close();
      pressure.stop();
      await budget.close();
    },
  };
}

/** How often routing's view of the spend is refreshed from the ledger (and at every soft threshold). */
const PRESSURE_REFRESH_MS = 5_000;

/** A backend option that must be a string (`organization`, `project`); anything else is left out. */
function stringOption(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The chat guardrail, whenever a model can moderate (a key made through the admin API may turn it
 * on later). Its calls are the gateway's own: any model, whatever the caller's allowed_models, and
 * no record of their own — a flagged verdict shows in the chat request's routing reason.
 */
function moderationGuard(config: Config, catalog: ModelCatalog, tasks: LocalTaskPipeline): ModerationGuard | undefined {
  if (!catalog.models().some((model) => model.capabilities.includes('moderate'))) return undefined;
  const settings = config.guardrails.moderation;
  return new ModerationGuard(settings, async (inputs, context) => {
    const own = { requestId: `${context.requestId}:moderation`, tenant: OPEN_TENANT, signal: context.signal, onRecord: () => undefined };
    const answer = await tasks.moderate({ model: settings.model, inputs }, own);
    return answer.result.results;
  });
}
