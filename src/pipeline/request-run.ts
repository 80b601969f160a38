import type { SluiceError } from '../../adapters/spec/index.js';
import type { Tenant } from '../auth/tenant.js';
import type { Tier } from '../config/schema.js';
import type { Attempt, CacheStatus, RequestRecord } from './attempt.js';
import type { CacheDirective } from './cache-step.js';
import { toSluiceError } from './run-chain.js';

export interface CallContext {
  requestId: string;
  tenant: Tenant;
  signal: AbortSignal;
  /** What the caller's headers ask of the response cache; `use` when they say nothing. */
  cacheDirective?: CacheDirective;
  /** `x-sluice-route-hint`: for a routed request, answer locally if a local model can, or only by a vendor. */
  routeHint?: 'local' | 'vendor';
  /** `x-sluice-max-cost-usd`: candidates that could cost more than this are not tried. */
  maxCostUsd?: number;
  /** A run has begun: a record will follow, exactly once. */
  onStart?(): void;
  /**
   * Receives the request's finished record exactly once: after the answer (for a stream, after
   * its last chunk and the ledger's settle), or with the error when nothing was served.
   */
  onRecord(record: RequestRecord): void;
}

/**
 * One request on its way through a pipeline: the attempts it made so far and what routing said.
 * `finish` makes the immutable record and hands it over, once; the pipeline calls it on every
 * path (served, failed, abandoned), so the server never has to piece an outcome together.
 */
export class RequestRun {
  readonly attempts: Attempt[] = [];
  tier?: Tier;
  routeReason?: string;
  cache: CacheStatus = 'miss';
  private record: RequestRecord | undefined;

  constructor(
    readonly context: CallContext,
    readonly inputText?: string,
  ) {
    context.onStart?.();
  }

  /** Hands over the record with `served` as the answer; a second call returns the first record. */
  finish(served?: Attempt, error?: SluiceError): RequestRecord {
    if (this.record) return this.record;
    this.record = Object.freeze({
      requestId: this.context.requestId,
      inputText: this.inputText,
      tier: this.tier,
      routeReason: this.routeReason,
      cache: this.cache,
      attempts: Object.freeze([...this.attempts]),
      served,
      error,
    });
    this.context.onRecord(this.record);
    return this.record;
  }

  /** Records the failure as the request's outcome and returns it, to be thrown. */
  fail(error: unknown): SluiceError {
    const failure = toSluiceError(error);
    this.finish(undefined, failure);
    return failure;
  }
}
