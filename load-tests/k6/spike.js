// @ts-check
// A spike: 5 → 200 requests/s in 10 s, held for a minute, then back. The gateway may shed load
// with 429 (rate limits) but must not fail with a 5xx or drop connections.
import { check } from 'k6';
import http from 'k6/http';
import { Rate } from 'k6/metrics';
import { MODEL, jsonBody, postChat } from './lib/sluice.js';

const serverErrors = new Rate('spike_server_errors');

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    spike: {
      executor: 'ramping-arrival-rate',
      startRate: 5,
      timeUnit: '1s',
      preAllocatedVUs: 50,
      maxVUs: 400,
      stages: [
        { duration: '30s', target: 5 },
        { duration: '10s', target: 200 },
        { duration: '1m', target: 200 },
        { duration: '10s', target: 5 },
        { duration: '30s', target: 5 },
      ],
    },
  },
  thresholds: {
    spike_server_errors: ['rate==0'],
    http_req_failed: ['rate<0.05'],
    http_req_duration: ['p(95)<3000'],
  },
};

const answeredOrShed = http.expectedStatuses(200, 429);

export default function () {
  const response = postChat(MODEL, [{ role: 'user', content: 'Reply with the word ok.' }], { maxTokens: 4, expected: answeredOrShed });
  serverErrors.add(response.status === 0 || response.status >= 500);
  check(response, {
    'answered, or shed with 429': (r) => r.status === 200 || r.status === 429,
    'a 429 is an OpenAI error with retry-after': (r) => r.status !== 429 || (Boolean(jsonBody(r)?.error?.type) && Boolean(r.headers['Retry-After'])),
  });
}
