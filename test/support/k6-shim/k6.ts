/** The stand-in for the `k6` module: check, group, sleep, fail. */
import { recordCheck } from './samples.js';

type Checker<T> = ((value: T) => boolean) | boolean;

export function check<T>(value: T, sets: Record<string, Checker<T>>): boolean {
  let allPassed = true;
  for (const [name, checker] of Object.entries(sets)) {
    const passed = typeof checker === 'function' ? Boolean(checker(value)) : Boolean(checker);
    recordCheck(name, passed);
    allPassed &&= passed;
  }
  return allPassed;
}

export function group<T>(_name: string, body: () => T): T {
  return body();
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** k6's sleep blocks the VU; so does this one (the script runs in a worker thread of its own). */
export function sleep(seconds: number): void {
  Atomics.wait(sleeper, 0, 0, seconds * 1000);
}

export function fail(message?: string): never {
  throw new Error(message ?? 'fail() called');
}
