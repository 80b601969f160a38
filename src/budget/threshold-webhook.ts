import type { ThresholdCrossing } from './budget-guard.js';

/**
 * Tells an operator's endpoint that a soft budget threshold was crossed: one JSON POST per
 * crossing, bounded in time, never blocking the request that crossed it. A failed delivery is
 * reported to `onFailure` (logged) and not retried: the log line and the metric remain.
 */
export function thresholdWebhook(url: string, onFailure: (error: Error) => void, timeoutMs = 5_000) {
  return (crossing: ThresholdCrossing): Promise<void> =>
    postWebhook(
      url,
      'budget',
      {
        event: 'budget.threshold_crossed',
        scope: crossing.scope,
        period: crossing.periodKey,
        threshold: crossing.threshold,
        spent_usd: crossing.spentUsd,
        cap_usd: crossing.capUsd,
        reservation_id: crossing.reservationId,
        at: new Date().toISOString(),
      },
      onFailure,
      timeoutMs,
    );
}

/**
 * One JSON POST to an operator's endpoint (`user-agent: sluice-<source>`), bounded in time; it never
 * rejects: a failed delivery goes to `onFailure`, and is not retried. The budget and drift alerts use it.
 */
export function postWebhook(url: string, source: string, body: Record<string, unknown>, onFailure: (error: Error) => void, timeoutMs = 5_000): Promise<void> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': `sluice-${source}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  }).then(
    async (response) => {
      await response.body?.cancel();
      if (!response.ok) onFailure(new Error(`${source} webhook ${url} answered ${response.status}`));
    },
    (error: Error) => onFailure(error),
  );
}
