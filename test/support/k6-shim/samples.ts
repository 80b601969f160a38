/**
 * What one smoke run of a k6 script measured, kept in the worker that runs it: one series per
 * metric (k6's built-in `http_req_*`, `checks`, `iterations` and the script's own), and each
 * check's passes and failures by name. The runner posts `snapshot()` back when the script ends.
 */
export type MetricType = 'counter' | 'gauge' | 'rate' | 'trend';

export interface MetricSeries {
  type: MetricType;
  values: number[];
}

export interface CheckTally {
  passes: number;
  fails: number;
}

export interface SampleSnapshot {
  metrics: Record<string, MetricSeries>;
  checks: Record<string, CheckTally>;
  /** Requests that got no HTTP response at all (refused, reset, timed out). */
  requestErrors: string[];
}

const metrics = new Map<string, MetricSeries>();
const checks = new Map<string, CheckTally>();
const requestErrors: string[] = [];

export function recordSample(name: string, type: MetricType, value: number): void {
  let series = metrics.get(name);
  if (!series) {
    series = { type, values: [] };
    metrics.set(name, series);
  }
  if (series.type !== type) throw new Error(`metric "${name}" is a ${series.type}, not a ${type}`);
  series.values.push(value);
}

export function recordCheck(name: string, passed: boolean): void {
  const tally = checks.get(name) ?? { passes: 0, fails: 0 };
  if (passed) tally.passes += 1;
  else tally.fails += 1;
  checks.set(name, tally);
  recordSample('checks', 'rate', passed ? 1 : 0);
}

export function recordRequestError(description: string): void {
  requestErrors.push(description);
}

export function snapshot(): SampleSnapshot {
  return { metrics: Object.fromEntries(metrics), checks: Object.fromEntries(checks), requestErrors };
}
