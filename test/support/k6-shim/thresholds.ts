/**
 * k6 thresholds (`options.thresholds`) evaluated on a smoke run's samples, for the expressions the
 * scripts use: `avg|min|max|med|p(N)` on trends, `rate` on rates, `count` and `rate` (per second)
 * on counters, `value` on gauges. Anything else, tagged sub-metrics included, is an error rather
 * than a silent pass.
 */
import type { MetricSeries } from './samples.js';

export interface ThresholdVerdict {
  metric: string;
  expression: string;
  observed: number | undefined;
  passed: boolean;
}

type Thresholds = Record<string, Array<string | { threshold: string }>>;

const EXPRESSION = /^\s*(avg|min|max|med|count|rate|value|p\((\d+(?:\.\d+)?)\))\s*(<=|>=|==|===|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;

function percentile(sorted: number[], share: number): number {
  const position = (sorted.length - 1) * share;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

function aggregate(series: MetricSeries, aggregation: string, percent: string | undefined, elapsedSeconds: number): number {
  const { type, values } = series;
  const sum = values.reduce((total, value) => total + value, 0);
  const sorted = [...values].sort((a, b) => a - b);
  if (type === 'trend' && percent !== undefined) return percentile(sorted, Number(percent) / 100);
  const table: Record<string, Partial<Record<string, () => number>>> = {
    trend: { avg: () => sum / values.length, min: () => sorted[0], max: () => sorted[sorted.length - 1], med: () => percentile(sorted, 0.5) },
    rate: { rate: () => sum / values.length },
    counter: { count: () => sum, rate: () => sum / elapsedSeconds },
    gauge: { value: () => values[values.length - 1] },
  };
  const compute = table[type][aggregation];
  if (!compute) throw new Error(`"${aggregation}" does not apply to a ${type}`);
  return compute();
}

function compare(observed: number, operator: string, limit: number): boolean {
  const table: Record<string, boolean> = { '<': observed < limit, '<=': observed <= limit, '>': observed > limit, '>=': observed >= limit, '==': observed === limit, '===': observed === limit, '!=': observed !== limit };
  return table[operator];
}

export function evaluateThresholds(thresholds: Thresholds, metrics: Record<string, MetricSeries>, elapsedSeconds: number): ThresholdVerdict[] {
  return Object.entries(thresholds).flatMap(([metric, expressions]) =>
    expressions.map((entry) => {
      const expression = typeof entry === 'string' ? entry : entry.threshold;
      const match = EXPRESSION.exec(expression);
      if (!match || metric.includes('{')) throw new Error(`the k6 shim cannot evaluate "${metric}: ${expression}"`);
      const series = metrics[metric];
      // k6 fails a threshold whose metric saw no sample only at the end of a real run; a smoke
      // that never produced the metric has not exercised what the threshold guards, so it fails.
      if (!series || series.values.length === 0) return { metric, expression, observed: undefined, passed: false };
      const observed = aggregate(series, match[1].startsWith('p(') ? 'p' : match[1], match[2], elapsedSeconds);
      return { metric, expression, observed, passed: compare(observed, match[3], Number(match[4])) };
    }),
  );
}
