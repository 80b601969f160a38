import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { SluiceError } from '../../adapters/spec/index.js';
import type { InferenceLog, InferenceRow } from '../store/inference-log.js';
import type { KeyStore } from '../auth/key-store.js';
import type { RateLimiter } from '../auth/rate-limiter.js';
import type { SluiceMetrics } from '../metrics/metrics.js';
import type { ModelDirectory } from '../pipeline/candidate-plan.js';
import type { ChatPipeline } from '../pipeline/chat-pipeline.js';
import type { EmbeddingsPipeline } from '../pipeline/embeddings-pipeline.js';
import type { TranscriptionPipeline } from '../pipeline/transcription-pipeline.js';
import type { VectorPipeline } from '../pipeline/vector-pipeline.js';
import { adminRouter } from './routes/admin-routes.js';
import { authMiddleware } from './auth-middleware.js';
import { toErrorResponse } from './error-response.js';
import { jsonBody } from './json-body.js';
import { fromRequestFault } from './request-fault.js';
import { openApiDocument } from './openapi.js';
import { passthroughProxy, type PassthroughTarget } from './passthrough.js';
import type { RequestState } from './request-context.js';
import { stateOf } from './request-context.js';
import { chatCompletionsRoute } from './routes/chat-route.js';
import { embeddingsRoute } from './routes/embeddings-route.js';
import { getModelRoute, listModelsRoute } from './routes/models-route.js';
import { healthRoute, metricsRoute, readyRoute, type Readiness } from './routes/ops-routes.js';
import { transcriptionsRoute } from './routes/transcriptions-route.js';
import { vectorSearchRoute } from './routes/vector-search-route.js';

export interface AppDependencies {
  logger: Logger;
  metrics: SluiceMetrics;
  keys: KeyStore;
  hasMasterKey: boolean;
  directory: ModelDirectory;
  chat: ChatPipeline;
  embeddings: EmbeddingsPipeline;
  transcriptions: TranscriptionPipeline;
  readiness: Readiness;
  passthrough?: PassthroughTarget;
  autoAliases: readonly string[];
  limits: { jsonBytes: number; uploadBytes: number; jsonMaxDepth: number; jsonMaxObjectKeys: number };
  inferenceLog?: InferenceLog;
  /** The vector store's pipeline (`x-sluice-store`, /v1/vector/search); without it both answer 503. */
  vectors?: VectorPipeline;
  rateLimiter: RateLimiter;
}

export function createApp(deps: AppDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(trackRequest(deps));

  const json = jsonBody({ maxBytes: deps.limits.jsonBytes, maxDepth: deps.limits.jsonMaxDepth, maxObjectKeys: deps.limits.jsonMaxObjectKeys });

  app.get('/health', healthRoute());
  app.get('/ready', readyRoute(deps.readiness));
  app.get('/metrics', metricsRoute(deps.metrics));
  app.get('/openapi.json', (_request, response) => {
    response.json(openApiDocument());
  });
  app.use('/admin', adminRouter(deps.keys, deps.hasMasterKey));

  const v1 = express.Router();
  v1.use(authMiddleware(deps.keys, deps.rateLimiter));
  v1.get('/models', listModelsRoute(deps.directory, deps.autoAliases));
  v1.get('/models/:model', getModelRoute(deps.directory));
  v1.post('/chat/completions', json, chatCompletionsRoute(deps.chat, deps.metrics));
  v1.post('/embeddings', json, embeddingsRoute(deps.embeddings, deps.vectors));
  v1.post('/vector/search', json, vectorSearchRoute(deps.vectors));
  v1.post('/audio/transcriptions', transcriptionsRoute(deps.transcriptions, deps.limits.uploadBytes));
  v1.use(passthroughProxy(deps.passthrough));
  app.use('/v1', v1);

  app.use((request: Request) => {
    throw new SluiceError('not-found', `Unknown path: ${request.method} ${request.path}`);
  });
  app.use(errorMiddleware(deps.logger));
  return app;
}

/** Request id, abort on disconnect, and one log line and metric sample per request. */
function trackRequest(deps: AppDependencies) {
  return (request: Request, response: Response, next: NextFunction) => {
    const state: RequestState = {
      requestId: `req_${randomUUID().replaceAll('-', '')}`,
      startedAt: performance.now(),
      endpoint: endpointOf(request.path),
      abort: new AbortController(),
    };
    response.locals.sluice = state;
    response.setHeader('x-sluice-request-id', state.requestId);
    response.on('close', () => {
      if (!response.writableFinished) state.abort.abort(new SluiceError('client-closed', 'the client closed the connection'));
      const latencyMs = performance.now() - state.startedAt;
      const meta = state.meta;
      const status = response.writableFinished ? response.statusCode : 499;
      const route = meta?.route ?? 'none';
      deps.metrics.requests.inc({ endpoint: state.endpoint, route, model: meta?.modelId ?? 'none', tier: meta?.tier ?? 'none', status: String(status) });
      deps.metrics.latency.observe({ endpoint: state.endpoint, route }, latencyMs / 1000);
      if (meta && response.writableFinished && status < 400) {
        deps.metrics.answers.inc({ location: meta.route === 'local' ? 'local' : 'vendor' });
        if (meta.upstreamMs !== undefined) deps.metrics.gatewayOverhead.observe({ endpoint: state.endpoint }, Math.max(0, latencyMs - meta.upstreamMs) / 1000);
      }
      if (meta?.costUsd) deps.metrics.costUsd.inc({ route, model: meta.modelId }, meta.costUsd);
      if (meta?.usage) {
        deps.metrics.tokens.inc({ route, model: meta.modelId, direction: 'input' }, meta.usage.prompt_tokens);
        deps.metrics.tokens.inc({ route, model: meta.modelId, direction: 'output' }, meta.usage.completion_tokens);
      }
      for (const attempt of meta?.failedAttempts ?? []) {
        deps.metrics.fallbacks.inc({ model: attempt.modelId, kind: attempt.error.kind });
        if (attempt.error.kind === 'budget-exceeded') deps.metrics.budgetRefusals.inc({ model: attempt.modelId });
      }
      if (deps.inferenceLog && MODEL_ENDPOINTS.has(state.endpoint)) {
        for (const row of inferenceRows(state, status, latencyMs)) deps.inferenceLog.append(row);
        deps.metrics.logRows.inc({ outcome: 'appended' });
      }
      if (state.endpoint === 'other' && request.method === 'GET') return; // probes and scrapes would drown the log
      deps.logger.info(
        {
          requestId: state.requestId,
          tenant: state.tenant?.name,
          method: request.method,
          path: request.originalUrl.split('?')[0],
          status,
          route: meta?.route,
          model: meta?.modelId,
          tier: meta?.tier,
          routeReason: meta?.routeReason,
          costUsd: meta?.costUsd,
          promptTokens: meta?.usage?.prompt_tokens,
          completionTokens: meta?.usage?.completion_tokens,
          fallbackFrom: meta?.failedAttempts.map((attempt) => `${attempt.modelId}:${attempt.error.kind}`),
          error: state.error instanceof SluiceError ? state.error.kind : state.error ? 'internal' : undefined,
          latencyMs: Math.round(latencyMs),
        },
        'request',
      );
    });
    next();
  };
}

const MODEL_ENDPOINTS = new Set(['chat', 'embeddings', 'transcriptions', 'vector_search']);

/**
 * One row per attempt: the candidates that failed before the answer (or before the error), then
 * the answer itself. Each row's request_id is the x-sluice-request-id its client received.
 */
function inferenceRows(state: RequestState, status: number, latencyMs: number): InferenceRow[] {
  const meta = state.meta;
  const failed = meta?.failedAttempts ?? [];
  const common = { requestId: state.requestId, tenant: state.tenant?.name, inputText: state.inputText, cacheStatus: 'miss', tier: meta?.tier, routingReason: meta?.routeReason };
  const rows: InferenceRow[] = failed.map((attempt, index) => ({ ...common, attempt: index + 1, modelId: attempt.modelId, error: attempt.error.kind, latencyMs: Math.round(latencyMs) }));
  const finalError = state.error instanceof SluiceError ? state.error.kind : state.error ? 'internal' : status >= 400 ? `http-${status}` : undefined;
  if (!meta && !finalError) return rows;
  rows.push({
    ...common,
    attempt: failed.length + 1,
    modelId: meta?.modelId,
    route: meta?.route,
    output: meta?.outputText,
    costUsd: meta?.costUsd,
    isEstimated: meta?.isCostEstimated ?? false,
    promptTokens: meta?.usage?.prompt_tokens,
    completionTokens: meta?.usage?.completion_tokens,
    escalatedFrom: failed.at(-1)?.modelId,
    latencyMs: Math.round(latencyMs),
    error: finalError,
  });
  return rows;
}

function endpointOf(path: string): string {
  if (path.startsWith('/v1/chat/completions')) return 'chat';
  if (path.startsWith('/v1/embeddings')) return 'embeddings';
  if (path.startsWith('/v1/audio/transcriptions')) return 'transcriptions';
  if (path.startsWith('/v1/models')) return 'models';
  if (path.startsWith('/v1/vector/search')) return 'vector_search';
  if (path.startsWith('/v1/')) return 'passthrough';
  return 'other';
}

function errorMiddleware(logger: Logger) {
  return (error: unknown, request: Request, response: Response, _next: NextFunction) => {
    const known = error instanceof SluiceError ? error : fromRequestFault(error, request);
    const state = stateOf(response);
    state.error = known ?? error;
    if (!known) logger.error({ requestId: state.requestId, err: error }, 'unhandled error');
    if (response.headersSent) {
      if (!response.writableEnded) response.end();
      return;
    }
    const answer = toErrorResponse(known ?? error);
    response.status(answer.status).set(answer.headers).json(answer.body);
  };
}
