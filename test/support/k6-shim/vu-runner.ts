/**
 * Runs inside the worker: imports the k6 script (its `k6*` imports resolve to this shim), then
 * `setup()`, each scenario's function for a few iterations as one VU, and `teardown(data)`, as
 * `k6 run` would for one VU. Posts the script's options, the samples and the iteration errors.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { recordSample, snapshot } from './samples.js';

interface Job {
  scriptUrl: string;
  env: Record<string, string>;
  iterations: number;
}

type ScriptModule = Record<string, unknown> & { options?: { scenarios?: Record<string, { exec?: string }> } };

const job = workerData as Job;
const context = globalThis as unknown as { __ENV: Record<string, string>; __VU: number; __ITER: number };
context.__ENV = job.env;
context.__VU = 0;
context.__ITER = 0;

const errors: string[] = [];

function callPhase(script: ScriptModule, name: string, argument?: unknown): unknown {
  const phase = script[name];
  if (typeof phase !== 'function') throw new Error(`the script exports no function "${name}"`);
  return phase(argument);
}

const script = (await import(job.scriptUrl)) as ScriptModule;
const execNames = [...new Set(Object.values(script.options?.scenarios ?? { default: {} }).map((scenario) => scenario.exec ?? 'default'))];
const data = typeof script.setup === 'function' ? callPhase(script, 'setup') : undefined;
context.__VU = 1;
for (const execName of execNames) {
  for (let iteration = 0; iteration < job.iterations; iteration += 1) {
    context.__ITER = iteration;
    const startedAt = performance.now();
    try {
      callPhase(script, execName, data);
      recordSample('iterations', 'counter', 1);
    } catch (error) {
      errors.push(`${execName}#${iteration}: ${(error as Error).stack ?? String(error)}`);
    }
    recordSample('iteration_duration', 'trend', performance.now() - startedAt);
  }
}
if (typeof script.teardown === 'function') callPhase(script, 'teardown', data);
parentPort!.postMessage({ options: JSON.parse(JSON.stringify(script.options ?? {})), samples: snapshot(), errors });
