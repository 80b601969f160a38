import type { NextFunction, Request, RequestHandler, Response } from 'express';

export interface CorsSettings {
  /** Exact origins (`https://app.example.com`), or `*` for any origin when credentials are off. */
  allowedOrigins: readonly string[];
  /** Let browsers send cookies / HTTP auth; never combined with `*` (the config refuses it). */
  allowCredentials: boolean;
  maxAgeSeconds: number;
}

const ALLOWED_METHODS = 'GET, POST, DELETE, OPTIONS';
/** What a browser app reads of our answers besides the CORS-safelisted headers. */
const EXPOSED_HEADERS = [
  'x-sluice-request-id', 'x-sluice-route', 'x-sluice-model', 'x-sluice-tier', 'x-sluice-route-reason', 'x-sluice-cache',
  'x-sluice-cost-usd', 'x-sluice-quality', 'x-sluice-escalated-from', 'retry-after',
].join(', ');
/** Headers a browser may send: what the OpenAI SDKs send, nothing that speaks for the gateway. */
const ALLOWED_HEADERS = 'authorization, content-type, x-api-key, api-key, openai-beta, idempotency-key, x-client-request-id, x-stainless-arch, x-stainless-lang, x-stainless-os, x-stainless-package-version, x-stainless-retry-count, x-stainless-runtime, x-stainless-runtime-version, x-stainless-timeout';

/**
 * CORS for browser clients, off unless origins are configured (`server.cors.allowed_origins`):
 * without it a browser page on another origin cannot read any answer. A preflight is answered
 * (204) only for an allowed origin; any other goes on unanswered by CORS, so the browser refuses.
 * An allowed origin is echoed, never `*`, when credentials are allowed.
 */
export function corsMiddleware(settings: CorsSettings): RequestHandler {
  const exact = new Set(settings.allowedOrigins);
  const isAnyOrigin = exact.has('*') && !settings.allowCredentials;
  return (request: Request, response: Response, next: NextFunction) => {
    const origin = request.headers.origin;
    if (origin === undefined || !(isAnyOrigin || exact.has(origin))) return next();
    response.setHeader('access-control-allow-origin', isAnyOrigin ? '*' : origin);
    if (!isAnyOrigin) response.append('vary', 'Origin');
    if (settings.allowCredentials) response.setHeader('access-control-allow-credentials', 'true');
    const isPreflight = request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
    if (!isPreflight) {
      response.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
      return next();
    }
    response.setHeader('access-control-allow-methods', ALLOWED_METHODS);
    response.setHeader('access-control-allow-headers', ALLOWED_HEADERS);
    response.setHeader('access-control-max-age', String(settings.maxAgeSeconds));
    response.status(204).end();
  };
}
