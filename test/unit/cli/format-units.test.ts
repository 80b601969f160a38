import { describe, expect, it } from 'vitest';
import { formatBytes, formatSeconds } from '../../../src/cli/format-units.js';

describe('byte and time units', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [3 * 1024 * 1024, '3.0 MiB'],
    [1117320768, '1.0 GiB'],
    [5 * 1024 ** 5, '5120.0 TiB'],
  ])('%d bytes → %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it.each([
    [0.04, '0.0s'],
    [3.25, '3.3s'],
    [42.4, '42s'],
    [75, '1m15s'],
    [3600 + 120, '1h02m'],
    [Infinity, '?'],
  ])('%d seconds → %s', (seconds, text) => {
    expect(formatSeconds(seconds)).toBe(text);
  });
});
