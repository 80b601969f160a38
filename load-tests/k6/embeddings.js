// @ts-check
/* global __ENV, __ITER, __VU */
// Embeddings: batches of 8 inputs, one vector per input, in order.
import { check, sleep } from 'k6';
import http from 'k6/http';
import { BASE_URL, commonThresholds, headers, jsonBody } from './lib/sluice.js';

const MODEL = __ENV.SLUICE_EMBEDDING_MODEL || 'text-embedding-3-small';
const BATCH = 8;

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: { steady: { executor: 'constant-vus', vus: 5, duration: '1m' } },
  thresholds: { ...commonThresholds, http_req_duration: ['p(95)<1000'] },
};

export default function () {
  const input = Array.from({ length: BATCH }, (_, index) => `load test sentence ${index} of iteration ${__ITER} on VU ${__VU}`);
  const response = http.post(`${BASE_URL}/v1/embeddings`, JSON.stringify({ model: MODEL, input }), { headers: headers(), timeout: '30s' });
  const body = jsonBody(response);
  check(response, {
    'status is 200': (r) => r.status === 200,
    'one vector per input': () => body?.data?.length === BATCH,
    'vectors in input order': () => body?.data?.every((/** @type {any} */ item, /** @type {number} */ index) => item.index === index),
    'vectors are non-empty numbers': () => body?.data?.every((/** @type {any} */ item) => item.embedding.length > 0 && typeof item.embedding[0] === 'number'),
  });
  sleep(0.2);
}
