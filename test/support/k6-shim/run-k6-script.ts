/**
 * Runs a k6 script for a few iterations without k6: in a worker thread (so k6's blocking HTTP API
 * can block), with `k6`, `k6/http` and `k6/metrics` resolved to this folder's stand-ins by a
 * module hook, and tsx loading them. Returns what failed — checks, iterations, requests that got
 * no response — and the script's thresholds evaluated on what the run measured.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import type { SampleSnapshot } from './samples.js';
import { serveBridge } from './sync-bridge.js';
import { evaluateThresholds, type ThresholdVerdict } from './thresholds.js';

export interface SmokeOptions {
  env: Record<string, string>;
  /** Iterations of each scenario's function. */
  iterations: number;
}

export interface SmokeResult {
  failedChecks: string[];
  iterationErrors: string[];
  requestErrors: string[];
  thresholds: ThresholdVerdict[];
  samples: SampleSnapshot;
  options: { thresholds?: Record<string, string[]>; scenarios?: Record<string, unknown> };
}

const shimModules: Record<string, string> = {
  k6: new URL('./k6.ts', import.meta.url).href,
  'k6/http': new URL('./http.ts', import.meta.url).href,
  'k6/metrics': new URL('./metrics.ts', import.meta.url).href,
};

const resolveHook = `const shims = ${JSON.stringify(shimModules)};
export async function resolve(specifier, context, next) {
  return specifier in shims ? next(shims[specifier], context) : next(specifier, context);
}`;

// A CommonJS entry (an `eval` worker is one) that installs tsx and the hook before any ESM loads.
const bootstrap = `
(async () => {
  const { register } = require('node:module');
  (await import('tsx/esm/api')).register();
  register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(resolveHook)}));
  await import(${JSON.stringify(new URL('./vu-runner.ts', import.meta.url).href)});
})().catch((error) => { throw error; });
`;

export async function runK6Script(scriptPath: string, { env, iterations }: SmokeOptions): Promise<SmokeResult> {
  const { port1, port2 } = new MessageChannel();
  const flag = new SharedArrayBuffer(4);
  serveBridge(port1, flag);
  const startedAt = performance.now();
  const worker = new Worker(bootstrap, {
    eval: true,
    workerData: { scriptUrl: pathToFileURL(scriptPath).href, env, iterations, bridge: { port: port2, flag } },
    transferList: [port2],
  });
  try {
    const outcome = await new Promise<{ options: SmokeResult['options']; samples: SampleSnapshot; errors: string[] }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the k6 worker exited (${code}) before reporting`)));
    });
    const elapsedSeconds = (performance.now() - startedAt) / 1000;
    const { metrics, checks } = outcome.samples;
    return {
      failedChecks: Object.entries(checks).flatMap(([name, tally]) => (tally.fails > 0 ? [`${name} (${tally.fails} of ${tally.fails + tally.passes})`] : [])),
      iterationErrors: outcome.errors,
      requestErrors: outcome.samples.requestErrors,
      thresholds: evaluateThresholds(outcome.options.thresholds ?? {}, metrics, elapsedSeconds),
      samples: outcome.samples,
      options: outcome.options,
    };
  } finally {
    port1.close();
    await worker.terminate();
  }
}

