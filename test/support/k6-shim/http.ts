/**
 * The stand-in for `k6/http`: request/get/post/del with k6's synchronous API, its response shape
 * (status, body, canonical header names, timings, json()), `expectedStatuses` and
 * `setResponseCallback`, and the built-in metrics each request feeds (http_reqs,
 * http_req_duration, http_req_waiting, http_req_failed). Only string bodies: the scripts send JSON.
 */
import { workerData } from 'node:worker_threads';
import { recordRequestError, recordSample } from './samples.js';
import { requestSync, type Bridge } from './sync-bridge.js';

type StatusRange = number | { min: number; max: number };
type ResponseCallback = (response: { status: number }) => boolean;

interface Params {
  headers?: Record<string, string>;
  timeout?: string | number;
  tags?: Record<string, string>;
  responseCallback?: ResponseCallback;
}

export interface Response {
  status: number;
  body: string;
  headers: Record<string, string>;
  url: string;
  error: string;
  error_code: number;
  timings: { duration: number; waiting: number };
  json(): unknown;
}

const bridge = (workerData as { bridge: Bridge }).bridge;

export function expectedStatuses(...ranges: StatusRange[]): ResponseCallback {
  return ({ status }) => ranges.some((range) => (typeof range === 'number' ? status === range : status >= range.min && status <= range.max));
}

let isExpected: ResponseCallback = expectedStatuses({ min: 200, max: 399 });

export function setResponseCallback(callback: ResponseCallback): void {
  isExpected = callback;
}

/** k6 canonicalises header names the way Go does: `x-sluice-tier` → `X-Sluice-Tier`. */
function canonicalHeaders(headers: Record<string, string>): Record<string, string> {
  const canonical = (name: string) => name.split('-').map((part) => part.charAt(0).toUpperCase() + part.slice(1).toLowerCase()).join('-');
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [canonical(name), value]));
}

function timeoutMs(timeout: Params['timeout']): number {
  if (timeout === undefined) return 60_000;
  if (typeof timeout === 'number') return timeout;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(timeout);
  if (!match) throw new Error(`unsupported timeout "${timeout}"`);
  return Number(match[1]) * { ms: 1, s: 1_000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'];
}

export function request(method: string, url: string, body?: string | null, params: Params = {}): Response {
  if (body !== undefined && body !== null && typeof body !== 'string') throw new Error('the k6 shim sends string bodies only');
  const answer = requestSync(bridge, { method, url, headers: params.headers ?? {}, body: body ?? undefined, timeoutMs: timeoutMs(params.timeout) });
  if (answer.error) recordRequestError(`${method} ${url}: ${answer.error}`);
  recordSample('http_reqs', 'counter', 1);
  recordSample('http_req_duration', 'trend', answer.durationMs);
  recordSample('http_req_waiting', 'trend', answer.waitingMs);
  recordSample('http_req_failed', 'rate', answer.error || !(params.responseCallback ?? isExpected)(answer) ? 1 : 0);
  return {
    status: answer.status,
    body: answer.body,
    headers: canonicalHeaders(answer.headers),
    url,
    error: answer.error ?? '',
    error_code: answer.error ? 1000 : 0,
    timings: { duration: answer.durationMs, waiting: answer.waitingMs },
    json: () => JSON.parse(answer.body),
  };
}

export const get = (url: string, params?: Params): Response => request('GET', url, null, params);
export const post = (url: string, body?: string | null, params?: Params): Response => request('POST', url, body, params);
export const del = (url: string, body?: string | null, params?: Params): Response => request('DELETE', url, body, params);

export default { request, get, post, del, expectedStatuses, setResponseCallback };
