// @ts-check
// Chat completions, JSON answers: a steady 10 VUs for 2 minutes.
import { check, sleep } from 'k6';
import { Trend } from 'k6/metrics';
import { MODEL, commonThresholds, jsonBody, postChat } from './lib/sluice.js';

const completionTokens = new Trend('chat_completion_tokens');

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: { steady: { executor: 'constant-vus', vus: 10, duration: '2m' } },
  thresholds: { ...commonThresholds, chat_completion_tokens: ['avg>0'] },
};

export default function () {
  const response = postChat(MODEL, [{ role: 'user', content: 'In one sentence, what does a load balancer do?' }]);
  const body = jsonBody(response);
  check(response, {
    'status is 200': (r) => r.status === 200,
    'is a chat.completion': () => body?.object === 'chat.completion',
    'has an answer': () => typeof body?.choices?.[0]?.message?.content === 'string' && body.choices[0].message.content.length > 0,
    'reports usage': () => body?.usage?.total_tokens > 0,
    'names the model that answered': (r) => Boolean(r.headers['X-Sluice-Model']),
  });
  if (body?.usage) completionTokens.add(body.usage.completion_tokens);
  sleep(0.2);
}
