import type { Response } from 'express';
import { formatUsd } from '../budget/price-table.js';
import type { AnswerHead, RequestRecord } from '../pipeline/attempt.js';

/** The x-sluice-* headers of DESIGN.md §3 that are known before the answer (the request id is set by middleware). */
export function setAnswerHeaders(response: Response, head: AnswerHead): void {
  response.setHeader('x-sluice-route', head.route);
  response.setHeader('x-sluice-model', head.modelId);
  response.setHeader('x-sluice-cache', head.cache);
  if (head.tier) response.setHeader('x-sluice-tier', head.tier);
  if (head.routeReason) response.setHeader('x-sluice-route-reason', head.routeReason);
  const failed = head.before.filter((attempt) => attempt.outcome === 'failed').map((attempt) => attempt.modelId);
  if (failed.length > 0) response.setHeader('x-sluice-fallback-from', failed.join(','));
  const escalated = head.before.filter((attempt) => attempt.outcome === 'escalated').map((attempt) => attempt.modelId);
  if (escalated.length > 0) response.setHeader('x-sluice-escalated-from', escalated.join(','));
  if (head.quality) response.setHeader('x-sluice-quality', head.quality.score.toFixed(3));
}

/** What the request cost, over every attempt: an escalated answer was paid for too. */
export function costHeaders(record: RequestRecord): Record<string, string> {
  const { costUsd, isEstimated } = totalCost(record);
  const cost = formatUsd(costUsd);
  if (cost === undefined) return {};
  return isEstimated ? { 'x-sluice-cost-usd': cost, 'x-sluice-cost-estimated': 'true' } : { 'x-sluice-cost-usd': cost };
}

/** Unknown when no attempt knows its cost; estimated when any known part is. */
export function totalCost(record: RequestRecord): { costUsd?: number; isEstimated: boolean } {
  const known = record.attempts.filter((attempt) => attempt.costUsd !== undefined);
  if (known.length === 0) return { isEstimated: false };
  return {
    costUsd: known.reduce((sum, attempt) => sum + attempt.costUsd!, 0),
    isEstimated: known.some((attempt) => attempt.isCostEstimated && attempt.costUsd! > 0),
  };
}

/** Both at once, for an answer whose record is complete when it is sent (every non-stream). */
export function setRecordHeaders(response: Response, head: AnswerHead, record: RequestRecord): void {
  setAnswerHeaders(response, head);
  response.set(costHeaders(record));
}
