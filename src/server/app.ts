import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { SluiceError, type ChatRequest } from '../../adapters/spec/index.js';
import type { Tenant } from '../auth/tenant.js';
import type { InferenceLog } from '../store/inference-log.js';
import type { FeedbackStore } from '../store/feedback-store.js';
import type { KeyStore } from '../auth/key-store.js';
import type { RateLimiter } from '../auth/rate-limiter.js';
import type { SluiceMetrics } from '../metrics/metrics.js';
import type { RequestRecord } from '../pipeline/attempt.js';
import type { ModelCatalog } from '../routing/model-catalog.js';
import type { ChatPipeline } from '../pipeline/chat-pipeline.js';
import type { EmbeddingsPipeline } from '../pipeline/embeddings-pipeline.js';
import type { TranscriptionPipeline } from '../pipeline/transcription-pipeline.js';
import type { LocalTaskPipeline } from '../pipeline/local-task-pipeline.js';
import type { VectorPipeline } from '../pipeline/vector-pipeline.js';
import { adminRouter } from './routes/admin-routes.js';
import { dashboardRouter } from './routes/dashboard-routes.js';
import type { DashboardRequests } from '../dashboard/live-dashboard.js';
import { authMiddleware } from './auth-middleware.js';
import { corsMiddleware, type CorsSettings } from './cors.js';
import { toErrorResponse } from './error-response.js';
import { jsonBody } from './json-body.js';
import { fromRequestFault } from './request-fault.js';
import type { ResponseCache } from '../cache/response-cache.js';
import type { SavingsReports } from '../learning/savings-report.js';
import type { OptimizeRequests } from '../learning/optimizer-control.js';
import { openApiDocument } from './openapi.js';
import { passthroughProxy, type PassthroughTarget } from './passthrough.js';
import type { RequestState } from './request-context.js';
import { stateOf } from './request-context.js';
import { chatCompletionsRoute } from './routes/chat-route.js';
import { embeddingsRoute } from './routes/embeddings-route.js';
import { feedbackRoute } from './routes/feedback-route.js';
import { getModelRoute, listModelsRoute } from './routes/models-route.js';
import { healthRoute, metricsRoute, readyRoute, type Readiness } from './routes/ops-routes.js';
import { renderOutcome, type OutcomeSinks } from './request-outcome.js';
import { transcriptionsRoute } from './routes/transcriptions-route.js';
import { ocrRoute } from './routes/ocr-route.js';
import { moderationsRoute, sentimentRoute } from './routes/classification-routes.js';
import { vectorSearchRoute } from './routes/vector-search-route.js';
import { rerankRoute } from './routes/rerank-route.js';

export interface AppDependencies {
  logger: Logger;
  metrics: SluiceMetrics;
  keys: KeyStore;
  hasMasterKey: boolean;
  catalog: ModelCatalog;
  chat: ChatPipeline;
  embeddings: EmbeddingsPipeline;
  transcriptions: TranscriptionPipeline;
  /** OCR, moderation and sentiment. */
  tasks: LocalTaskPipeline;
  readiness: Readiness;
  passthrough?: PassthroughTarget;
  limits: { jsonBytes: number; uploadBytes: number; jsonMaxDepth: number; jsonMaxObjectKeys: number };
  inferenceLog?: InferenceLog;
  /** Ratings for POST /v1/feedback; without it the route answers 503. */
  feedback?: FeedbackStore;
  /** The vector store's pipeline (`x-sluice-store`, /v1/vector/search); without it both answer 503. */
  vectors?: VectorPipeline;
  rateLimiter: RateLimiter;
  /** The response cache, for the admin purge; none when `cache.enabled` is false. */
  responses?: ResponseCache;
  /** GET /admin/report; none when the store has no SQL database. */
  reports?: SavingsReports;
  /** POST /admin/optimize; none when the optimizer is off. */
  optimize?: OptimizeRequests;
  /** GET /admin/dashboard/data; none when the store has no SQL database. */
  dashboard?: DashboardRequests;
  /** Sees every finished chat request's record and what it asked (the rollout ramp, shadow sampling); none when both are off. */
  onChatRecord?(record: RequestRecord, seen: ChatRecordContext): void;
  /** Browser access from other origins; none when no origin is allowed (the default). */
  cors?: CorsSettings;
}

export function createApp(deps: AppDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(trackRequest(deps));
  if (deps.cors && deps.cors.allowedOrigins.length > 0) app.use(corsMiddleware(deps.cors));

  const json = jsonBody({ maxBytes: deps.limits.jsonBytes, maxDepth: deps.limits.jsonMaxDepth, maxObjectKeys: deps.limits.jsonMaxObjectKeys });

  app.get('/health', healthRoute());
  app.get('/ready', readyRoute(deps.readiness));
  app.get('/metrics', metricsRoute(deps.metrics));
  app.get('/openapi.json', (_request, response) => {
    response.json(openApiDocument());
  });
  app.use(dashboardRouter(deps.keys, deps.hasMasterKey, deps.dashboard));
  app.use('/admin', adminRouter(deps.keys, deps.hasMasterKey, deps.responses, deps.reports, deps.optimize));

  const v1 = express.Router();
  v1.use(authMiddleware(deps.keys, deps.rateLimiter));
  v1.get('/models', listModelsRoute(deps.catalog));
  v1.get('/models/:model', getModelRoute(deps.catalog));
  v1.post('/chat/completions', json, chatCompletionsRoute(deps.chat, deps.metrics));
  v1.post('/embeddings', json, embeddingsRoute(deps.embeddings, deps.vectors));
  v1.post('/vector/search', json, vectorSearchRoute(deps.vectors));
  v1.post('/feedback', json, feedbackRoute(deps.feedback, deps.metrics));
  v1.post('/audio/transcriptions', transcriptionsRoute(deps.transcriptions, deps.limits.uploadBytes));
  v1.post('/ocr', ocrRoute(deps.tasks, json, deps.limits.uploadBytes));
  v1.post('/moderations', json, moderationsRoute(deps.tasks));
  v1.post('/rerank', json, rerankRoute(deps.tasks));
  v1.post('/classifications/sentiment', json, sentimentRoute(deps.tasks));
  v1.use(passthroughProxy(deps.passthrough));
  app.use('/v1', v1);

  app.use((request: Request) => {
    throw new SluiceError('not-found', `Unknown path: ${request.method} ${request.path}`);
  });
  app.use(errorMiddleware(deps.logger));
  return app;
}

/** Request id, abort on disconnect, and — once the request has really finished — its rendering. */
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
      const isComplete = response.writableFinished;
      if (!isComplete) state.abort.abort(new SluiceError('client-closed', 'the client closed the connection'));
      const exchange = { status: isComplete ? response.statusCode : 499, latencyMs: performance.now() - state.startedAt, isComplete };
      // A stream the client abandoned is still settling (the relay's finally): its record follows.
      const render = (record?: RequestRecord) => renderOutcome(withChatContext(deps, request, state), request, state, exchange, record);
      if (state.record) void state.record.then(render);
      else render();
    });
    next();
  };
}

/** What a chat record's observers get besides the record: the request as validated (its strict schema keeps it as sent) and its caller. */
export interface ChatRecordContext {
  request: ChatRequest;
  tenant?: Tenant;
}

function withChatContext(deps: AppDependencies, request: Request, state: RequestState): OutcomeSinks {
  const observe = deps.onChatRecord;
  if (!observe) return deps as OutcomeSinks;
  return { ...deps, onChatRecord: (record) => observe(record, { request: request.body as ChatRequest, tenant: state.tenant }) };
}

function endpointOf(path: string): string {
  if (path.startsWith('/v1/chat/completions')) return 'chat';
  if (path.startsWith('/v1/embeddings')) return 'embeddings';
  if (path.startsWith('/v1/audio/transcriptions')) return 'transcriptions';
  if (path.startsWith('/v1/ocr')) return 'ocr';
  if (path.startsWith('/v1/moderations')) return 'moderations';
  if (path.startsWith('/v1/rerank')) return 'rerank';
  if (path.startsWith('/v1/classifications')) return 'classifications';
  if (path.startsWith('/v1/models')) return 'models';
  if (path.startsWith('/v1/vector/search')) return 'vector_search';
  if (path.startsWith('/v1/feedback')) return 'feedback';
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
