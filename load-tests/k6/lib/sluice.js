// @ts-check
/* global __ENV */
// What every script shares: where the gateway is, the key, the request shapes, the common
// thresholds. Run with a real k6: `k6 run -e SLUICE_URL=http://localhost:8080 -e SLUICE_KEY=sk-… chat.js`.
import http from 'k6/http';

export const BASE_URL = (__ENV.SLUICE_URL || 'http://localhost:8080').replace(/\/$/, '');
export const MODEL = __ENV.SLUICE_MODEL || 'gpt-4o-mini';

/** @param {string | undefined} [key] */
export function headers(key = __ENV.SLUICE_KEY) {
  if (!key) throw new Error('set SLUICE_KEY (-e SLUICE_KEY=sk-…) to a key the gateway accepts');
  return { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` };
}

/**
 * @param {string} model
 * @param {Array<{ role: string, content: string }>} messages
 * @param {{ stream?: boolean, maxTokens?: number, key?: string, expected?: ReturnType<typeof http.expectedStatuses> }} [options]
 */
export function postChat(model, messages, options = {}) {
  const body = { model, messages, max_tokens: options.maxTokens ?? 32, temperature: 0 };
  if (options.stream) Object.assign(body, { stream: true, stream_options: { include_usage: true } });
  return http.post(`${BASE_URL}/v1/chat/completions`, JSON.stringify(body), {
    headers: headers(options.key),
    timeout: '60s',
    ...(options.expected ? { responseCallback: options.expected } : {}),
  });
}

/** @param {import('k6/http').RefinedResponse<any>} response */
export function jsonBody(response) {
  try {
    return /** @type {any} */ (response.json());
  } catch {
    return undefined;
  }
}

/** The latency and error budget a gateway in front of real vendors is held to. */
export const commonThresholds = {
  http_req_failed: ['rate<0.01'],
  http_req_duration: ['p(95)<2000'],
  checks: ['rate>0.99'],
};
