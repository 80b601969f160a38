// @ts-check
/* global __ENV */
// Budget exhaustion: setup() makes a key with a tiny monthly budget through the admin API; the key
// spends it, after which every request is refused with 429 insufficient_quota / budget_exceeded
// and retry-after — never a 5xx. teardown() revokes the key.
// Needs SLUICE_MASTER_KEY, and a gateway whose plan has no free local model for the model asked
// (else `on_exceeded: local` answers locally instead of refusing).
import { check } from 'k6';
import http from 'k6/http';
import { Counter, Rate } from 'k6/metrics';
import { BASE_URL, MODEL, headers, jsonBody, postChat } from './lib/sluice.js';

const BUDGET_USD = Number(__ENV.SLUICE_BUDGET_USD || '0.0001');
const refused = new Counter('budget_refusals');
const answered = new Counter('budget_answers');
const serverErrors = new Rate('budget_server_errors');

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: { drain: { executor: 'shared-iterations', vus: 4, iterations: 200, maxDuration: '2m' } },
  thresholds: {
    budget_refusals: ['count>0'],
    budget_answers: ['count>0'],
    budget_server_errors: ['rate==0'],
    checks: ['rate==1'],
  },
};

export function setup() {
  const name = `k6-budget-${Date.now()}`;
  const response = http.post(`${BASE_URL}/admin/keys`, JSON.stringify({ name, monthly_budget_usd: BUDGET_USD }), { headers: headers(__ENV.SLUICE_MASTER_KEY) });
  if (response.status !== 201) throw new Error(`POST /admin/keys answered ${response.status}: ${response.body}`);
  return { name, key: /** @type {string} */ (jsonBody(response).key) };
}

/** @param {{ key: string }} data */
export default function (data) {
  const response = postChat(MODEL, [{ role: 'user', content: 'Write two sentences about budgets.' }], { key: data.key, maxTokens: 64, expected: http.expectedStatuses(200, 429) });
  const error = jsonBody(response)?.error;
  serverErrors.add(response.status === 0 || response.status >= 500);
  if (response.status === 200) answered.add(1);
  if (response.status === 429) refused.add(1);
  check(response, {
    'answered within the budget, or refused': (r) => r.status === 200 || r.status === 429,
    'a refusal says budget_exceeded': (r) => r.status !== 429 || (error?.type === 'insufficient_quota' && error?.code === 'budget_exceeded'),
    'a refusal carries retry-after': (r) => r.status !== 429 || Number(r.headers['Retry-After']) > 0,
  });
}

/** @param {{ name: string }} data */
export function teardown(data) {
  http.del(`${BASE_URL}/admin/keys/${data.name}`, null, { headers: headers(__ENV.SLUICE_MASTER_KEY) });
}
