// @ts-check
// Chat completions as SSE streams: time to first byte, a complete stream ending in [DONE], usage.
import { check, sleep } from 'k6';
import { Trend } from 'k6/metrics';
import { MODEL, commonThresholds, postChat } from './lib/sluice.js';

const timeToFirstByte = new Trend('stream_time_to_first_byte', true);

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: { steady: { executor: 'constant-vus', vus: 10, duration: '2m' } },
  thresholds: { ...commonThresholds, stream_time_to_first_byte: ['p(95)<1000'] },
};

/** @param {string} body */
function frames(body) {
  return body
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => line.slice('data: '.length));
}

export default function () {
  const response = postChat(MODEL, [{ role: 'user', content: 'Count from one to five.' }], { stream: true });
  const data = typeof response.body === 'string' ? frames(response.body) : [];
  const chunks = data.filter((frame) => frame !== '[DONE]').map((frame) => JSON.parse(frame));
  const text = chunks.map((chunk) => chunk.choices?.[0]?.delta?.content ?? '').join('');
  check(response, {
    'status is 200': (r) => r.status === 200,
    'is an event stream': (r) => (r.headers['Content-Type'] ?? '').startsWith('text/event-stream'),
    'ends with [DONE]': () => data[data.length - 1] === '[DONE]',
    'carries no error frame': () => chunks.every((chunk) => !chunk.error),
    'streams some text': () => text.length > 0,
    'ends with usage': () => chunks.some((chunk) => chunk.usage?.total_tokens > 0),
  });
  timeToFirstByte.add(response.timings.waiting);
  sleep(0.2);
}
