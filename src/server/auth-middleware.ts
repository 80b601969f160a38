import type { NextFunction, Request, Response } from 'express';
import { SluiceError } from '../../adapters/spec/index.js';
import type { KeyStore } from '../auth/key-store.js';
import type { RateLimiter } from '../auth/rate-limiter.js';
import { OPEN_TENANT } from '../auth/tenant.js';
import { stateOf } from './request-context.js';

export function bearerToken(request: Request): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    return match?.[1]?.trim();
  }
  // Anthropic-style clients and some tools send the key here.
  const apiKey = request.headers['x-api-key'] ?? request.headers['api-key'];
  return typeof apiKey === 'string' ? apiKey : undefined;
}

/** Bearer key → tenant, then the tenant's rate limit. Keys are compared by hash, never logged. */
export function authMiddleware(keys: KeyStore, limiter: RateLimiter) {
  return async (request: Request, response: Response, next: NextFunction) => {
    const state = stateOf(response);
    if (keys.isOpen) {
      state.tenant = OPEN_TENANT;
      return next();
    }
    const presented = bearerToken(request);
    if (!presented) {
      throw new SluiceError('unauthenticated', "You didn't provide an API key. Provide it in the Authorization header (Authorization: Bearer YOUR_KEY).");
    }
    const tenant = keys.lookup(presented);
    if (!tenant) throw new SluiceError('unauthenticated', 'Incorrect API key provided.');
    state.tenant = tenant;
    if (tenant.rateLimitRpm) {
      // A rate limit protects capacity, not money: if its shared store is away, let the request
      // through (the budget ledger still refuses paid calls it cannot record).
      const verdict = await limiter.take(tenant.id, tenant.rateLimitRpm).catch((): { allowed: true } => ({ allowed: true }));
      if (!verdict.allowed) {
        throw new SluiceError('rate-limited', `Rate limit reached for key "${tenant.name}": ${tenant.rateLimitRpm} requests per minute.`, {
          retryAfterSeconds: verdict.retryAfterSeconds,
        });
      }
    }
    next();
  };
}
