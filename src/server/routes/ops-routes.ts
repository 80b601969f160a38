import type { Request, Response } from 'express';
import type { SluiceMetrics } from '../../metrics/metrics.js';

export interface Readiness {
  /** Undefined when ready, else why not (JSON-able). */
  notReadyReason(): Record<string, string> | undefined;
}

export function healthRoute() {
  return (_request: Request, response: Response) => {
    response.json({ status: 'ok', uptime_seconds: Math.round(process.uptime()) });
  };
}

export function readyRoute(readiness: Readiness) {
  return (_request: Request, response: Response) => {
    const reason = readiness.notReadyReason();
    if (reason) response.status(503).json({ status: 'starting', waiting_for: reason });
    else response.json({ status: 'ready' });
  };
}

export function metricsRoute(metrics: SluiceMetrics) {
  return async (_request: Request, response: Response) => {
    response.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  };
}
