/** The stand-in for `k6/metrics`: custom metrics feed the same series as the built-in ones. */
import { recordSample, type MetricType } from './samples.js';

class Metric {
  constructor(
    readonly name: string,
    private readonly type: MetricType,
  ) {}

  add(value: number | boolean): void {
    recordSample(this.name, this.type, Number(value));
  }
}

export class Counter extends Metric {
  constructor(name: string) {
    super(name, 'counter');
  }
}

export class Gauge extends Metric {
  constructor(name: string) {
    super(name, 'gauge');
  }
}

export class Rate extends Metric {
  constructor(name: string) {
    super(name, 'rate');
  }
}

export class Trend extends Metric {
  constructor(name: string, _isTime?: boolean) {
    super(name, 'trend');
  }
}
