import type { ChatRequest } from '../adapters/spec/index.js';

export interface Percentiles {
  p50Us: number;
  p99Us: number;
}

export interface DecisionTiming {
  calls: number;
  decision: Percentiles;
  /** The same requests through `JSON.stringify`, timed in the same loop: the yardstick. */
  baseline: Percentiles;
}

function percentiles(samplesNs: Float64Array): Percentiles {
  const sorted = Float64Array.from(samplesNs).sort();
  const at = (quantile: number) => sorted[Math.min(sorted.length - 1, Math.floor(quantile * sorted.length))] / 1000;
  return { p50Us: at(0.5), p99Us: at(0.99) };
}

/**
 * Times `decide` on every request, `repetitions` times, each call beside one `JSON.stringify`
 * of the same request so that both see the same machine state. A few warm-up rounds first, so
 * the JIT has compiled both before anything is counted.
 */
export function timeDecisions(requests: readonly ChatRequest[], decide: (request: ChatRequest) => unknown, repetitions: number): DecisionTiming {
  const warmupRounds = Math.min(20, repetitions);
  let sink = 0;
  for (let round = 0; round < warmupRounds; round += 1) {
    for (const request of requests) {
      if (decide(request)) sink += 1;
      sink += JSON.stringify(request).length;
    }
  }
  const calls = requests.length * repetitions;
  const decisionNs = new Float64Array(calls);
  const baselineNs = new Float64Array(calls);
  let index = 0;
  for (let round = 0; round < repetitions; round += 1) {
    for (const request of requests) {
      const start = process.hrtime.bigint();
      if (decide(request)) sink += 1;
      const decided = process.hrtime.bigint();
      sink += JSON.stringify(request).length;
      const stringified = process.hrtime.bigint();
      decisionNs[index] = Number(decided - start);
      baselineNs[index] = Number(stringified - decided);
      index += 1;
    }
  }
  // Keeps the results alive, so neither loop body can be optimised away.
  if (sink === -1) process.stdout.write('');
  return { calls, decision: percentiles(decisionNs), baseline: percentiles(baselineNs) };
}
