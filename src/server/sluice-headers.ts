import type { Response } from 'express';
import type { AnswerMeta } from '../pipeline/answer-meta.js';
import { formatUsd } from '../budget/price-table.js';

/** The x-sluice-* headers of DESIGN.md §3 for an answer (the request id is set by middleware). */
export function setAnswerHeaders(response: Response, meta: AnswerMeta, options: { includeCost: boolean }): void {
  response.setHeader('x-sluice-route', meta.route);
  response.setHeader('x-sluice-model', meta.modelId);
  response.setHeader('x-sluice-cache', 'miss');
  if (meta.tier) response.setHeader('x-sluice-tier', meta.tier);
  if (meta.routeReason) response.setHeader('x-sluice-route-reason', meta.routeReason);
  const failed = meta.failedAttempts.at(-1);
  if (failed) response.setHeader('x-sluice-fallback-from', meta.failedAttempts.map((attempt) => attempt.modelId).join(','));
  const cost = formatUsd(meta.costUsd);
  if (options.includeCost && cost !== undefined) response.setHeader('x-sluice-cost-usd', cost);
  if (options.includeCost && meta.isCostEstimated) response.setHeader('x-sluice-cost-estimated', 'true');
}
