import type { Request } from 'express';
import type { Logger } from 'pino';
import { SluiceError } from '../../adapters/spec/index.js';
import type { SluiceMetrics } from '../metrics/metrics.js';
import type { RequestRecord } from '../pipeline/attempt.js';
import type { PassthroughCharge } from '../pipeline/passthrough-charge.js';
import type { InferenceLog, InferenceRow } from '../store/inference-log.js';
import type { RequestState } from './request-context.js';
import { totalCost } from './sluice-headers.js';

export interface OutcomeSinks {
  logger: Logger;
  metrics: SluiceMetrics;
  inferenceLog?: InferenceLog;
  /** Called once per finished chat request that has a record (the rollout ramp). */
  onChatRecord?(record: RequestRecord): void;
}

/** How the exchange with the client ended, seen from the socket. */
export interface Exchange {
  status: number;
  latencyMs: number;
  /** The whole answer was written (a client that left early did not get it). */
  isComplete: boolean;
}

const MODEL_ENDPOINTS = new Set(['chat', 'embeddings', 'transcriptions', 'vector_search', 'ocr', 'moderations', 'classifications', 'rerank']);

/**
 * Renders a finished request — metrics, inference rows, the access log line — from its record,
 * read once. Nothing here decides anything about the request; the pipeline already has.
 */
export function renderOutcome(sinks: OutcomeSinks, request: Request, state: RequestState, exchange: Exchange, record: RequestRecord | undefined): void {
  const { metrics } = sinks;
  const served = record?.served;
  const route = served?.route ?? 'none';
  metrics.requests.inc({ endpoint: state.endpoint, route, model: served?.modelId ?? 'none', tier: record?.tier ?? 'none', status: String(exchange.status) });
  metrics.latency.observe({ endpoint: state.endpoint, route }, exchange.latencyMs / 1000);
  if (served && exchange.isComplete && exchange.status < 400) {
    metrics.answers.inc({ location: served.route === 'local' ? 'local' : 'vendor' });
    const backendMs = record.attempts.reduce((sum, attempt) => sum + attempt.latencyMs, 0);
    metrics.gatewayOverhead.observe({ endpoint: state.endpoint }, Math.max(0, exchange.latencyMs - backendMs) / 1000);
  }
  for (const attempt of record?.attempts ?? []) {
    const labels = { route: attempt.route, model: attempt.modelId };
    if (attempt.costUsd) metrics.costUsd.inc(labels, attempt.costUsd);
    if (attempt.usage) {
      metrics.tokens.inc({ ...labels, direction: 'input' }, attempt.usage.prompt_tokens);
      metrics.tokens.inc({ ...labels, direction: 'output' }, attempt.usage.completion_tokens);
    }
    if (attempt.outcome === 'escalated') metrics.escalations.inc({ model: attempt.modelId, tier: record?.tier ?? 'none' });
    if (attempt.outcome !== 'failed' || !attempt.error) continue;
    metrics.fallbacks.inc({ model: attempt.modelId, kind: attempt.error.kind });
    if (attempt.error.kind === 'budget-exceeded') metrics.budgetRefusals.inc({ model: attempt.modelId });
  }
  if (record && state.endpoint === 'chat') sinks.onChatRecord?.(record);
  if (sinks.inferenceLog && MODEL_ENDPOINTS.has(state.endpoint)) {
    for (const row of inferenceRows(state, exchange, record)) sinks.inferenceLog.append(row);
    metrics.logRows.inc({ outcome: 'appended' });
  }
  if (state.endpoint === 'other' && request.method === 'GET') return; // probes and scrapes would drown the log
  const cost = record ? totalCost(record) : undefined;
  sinks.logger.info(
    {
      requestId: state.requestId,
      tenant: state.tenant?.name,
      method: request.method,
      path: request.originalUrl.split('?')[0],
      status: exchange.status,
      route: served?.route,
      model: served?.modelId,
      tier: record?.tier,
      routeReason: record?.routeReason,
      cache: record?.cache,
      costUsd: cost?.costUsd,
      promptTokens: served?.usage?.prompt_tokens,
      completionTokens: served?.usage?.completion_tokens,
      attempts: record && record.attempts.length > 1 ? record.attempts.map((attempt) => `${attempt.modelId}:${attempt.error?.kind ?? attempt.outcome}`) : undefined,
      error: errorKind(record?.error ?? state.error),
      latencyMs: Math.round(exchange.latencyMs),
    },
    'request',
  );
}

/**
 * One row per attempt, each with its own model, timing, outcome and cost; a request refused
 * before any candidate was tried leaves one row with the error. Each row's request_id is the
 * x-sluice-request-id its client received.
 */
export function inferenceRows(state: RequestState, exchange: Exchange, record: RequestRecord | undefined): InferenceRow[] {
  const finalError = errorKind(record?.error ?? state.error) ?? (exchange.status >= 400 ? `http-${exchange.status}` : undefined);
  const common = { requestId: state.requestId, tenant: state.tenant?.name, inputText: record?.inputText, cacheStatus: record?.cache, tier: record?.tier, routingReason: record?.routeReason };
  const attempts = record?.attempts ?? [];
  if (attempts.length === 0) {
    return finalError ? [{ ...common, attempt: 1, error: finalError, latencyMs: Math.round(exchange.latencyMs) }] : [];
  }
  return attempts.map((attempt, index) => ({
    ...common,
    attempt: index + 1,
    modelId: attempt.modelId,
    route: attempt.route,
    outcome: attempt.outcome,
    output: attempt.outputText,
    costUsd: attempt.costUsd,
    isEstimated: attempt.isCostEstimated,
    promptTokens: attempt.usage?.prompt_tokens,
    completionTokens: attempt.usage?.completion_tokens,
    qualityScore: attempt.quality?.score,
    qualityReasons: attempt.quality?.reasons.join(','),
    escalatedFrom: attempts[index - 1]?.modelId,
    createdAt: attempt.startedAt,
    ttftMs: attempt.firstTokenMs,
    cacheEntryId: attempt.cacheEntryId,
    latencyMs: attempt.latencyMs,
    // The served attempt of a request that failed afterwards (a store write, a cut stream) carries why.
    error: attempt.error?.kind ?? (attempt === record!.served ? finalError : undefined),
  }));
}

/**
 * A forwarded passthrough call is one attempt on its backend: logged, with what it was charged, so
 * spend through the passthrough shows in the same table as every other answer.
 */
export function renderPassthroughCharge(sinks: OutcomeSinks, charge: PassthroughCharge, backendId: string): void {
  const labels = { route: backendId, model: charge.modelId ?? 'none' };
  if (charge.costUsd) sinks.metrics.costUsd.inc(labels, charge.costUsd);
  if (charge.usage) {
    sinks.metrics.tokens.inc({ ...labels, direction: 'input' }, charge.usage.prompt_tokens);
    sinks.metrics.tokens.inc({ ...labels, direction: 'output' }, charge.usage.completion_tokens);
  }
  const status = charge.upstreamStatus;
  const error = charge.error ?? (status !== undefined && status >= 400 ? `http-${status}` : undefined);
  sinks.inferenceLog?.append({
    requestId: charge.requestId,
    attempt: 1,
    tenant: charge.tenantName,
    modelId: charge.modelId,
    route: backendId,
    routingReason: `passthrough ${charge.method} ${charge.path}`,
    outcome: error === 'client-closed' ? 'abandoned' : error && error !== 'usage-missing' ? 'failed' : 'answered',
    costUsd: charge.costUsd,
    isEstimated: charge.isEstimated,
    promptTokens: charge.usage?.prompt_tokens,
    completionTokens: charge.usage?.completion_tokens,
    error,
  });
  sinks.logger.info(
    { requestId: charge.requestId, tenant: charge.tenantName, path: charge.path, model: charge.modelId, costUsd: charge.costUsd, isEstimated: charge.isEstimated, error: charge.error, uncharged: charge.uncharged },
    'passthrough charge',
  );
}

function errorKind(error: unknown): string | undefined {
  if (error instanceof SluiceError) return error.kind;
  return error ? 'internal' : undefined;
}
