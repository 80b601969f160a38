/** Turning a measurement into a 0..1 score, with a margin of slack instead of a cliff. */

/** 1 at or below `good`, 0 at or above `bad`, linear between (for a measure where higher is worse). */
export function ramp(value: number, good: number, bad: number): number {
  if (value <= good) return 1;
  if (value >= bad) return 0;
  return (bad - value) / (bad - good);
}

/** 1 at or above `good`, 0 at or below `bad`, linear between (higher is better). */
export function rise(value: number, bad: number, good: number): number {
  if (value >= good) return 1;
  if (value <= bad) return 0;
  return (value - bad) / (good - bad);
}
