// @ts-check
// Mixed traffic through the router (`model: "auto"`) in the plan's tier mix: 60% simple,
// 20% medium, 15% high/creative, 5% brand, a quarter of it streamed.
import { check, sleep } from 'k6';
import { Counter } from 'k6/metrics';
import { pickPrompt } from './lib/prompts.js';
import { commonThresholds, postChat } from './lib/sluice.js';

const sentByTier = new Counter('mixed_requests');
const routed = new Counter('mixed_routed');

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    mixed: {
      executor: 'ramping-vus',
      startVUs: 1,
      stages: [
        { duration: '1m', target: 20 },
        { duration: '3m', target: 20 },
        { duration: '30s', target: 0 },
      ],
    },
  },
  thresholds: { ...commonThresholds, mixed_routed: ['count>0'] },
};

export default function () {
  const prompt = pickPrompt(Math.random());
  const stream = Math.random() < 0.25;
  const response = postChat('auto', prompt.messages, { stream, maxTokens: 64 });
  sentByTier.add(1, { tier: prompt.tier });
  const passed = check(response, {
    'status is 200': (r) => r.status === 200,
    'the router chose a tier': (r) => Boolean(r.headers['X-Sluice-Tier']),
    'names the model that answered': (r) => Boolean(r.headers['X-Sluice-Model']),
  });
  if (passed) routed.add(1, { tier: response.headers['X-Sluice-Tier'] });
  sleep(0.1 + Math.random() * 0.4);
}
