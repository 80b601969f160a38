import { describe, expect, it } from 'vitest';
import { createDownloadProgress, formatProgressLine } from '../../../src/cli/download-progress.js';

const MiB = 1024 * 1024;
const state = { label: 'chat/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf', doneBytes: 20 * MiB, totalBytes: 40 * MiB, bytesPerSecond: 10 * MiB };

describe('the progress line', () => {
  it('shows the file, a bar, percent, bytes, speed and time left', () => {
    expect(formatProgressLine(state, 120)).toBe(
      'chat/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf  [#############------------]  50%  20.0 MiB/40.0 MiB  10.0 MiB/s  ETA 2.0s',
    );
  });

  it.each([100, 80, 60, 40])('fits %d columns, shortening the label from the left first', (columns) => {
    const line = formatProgressLine(state, columns);
    expect(line.length).toBeLessThan(columns);
    expect(line).toMatch(/^(chat\/|…).*gguf {2}/);
  });

  it('drops the bar before the numbers when it is narrow', () => {
    expect(formatProgressLine(state, 80)).toBe('…struct-q4_k_m.gguf  [#####-----]  50%  20.0 MiB/40.0 MiB  10.0 MiB/s  ETA 2.0s');
    expect(formatProgressLine(state, 70)).toBe('…-instruct-q4_k_m.gguf   50%  20.0 MiB/40.0 MiB  10.0 MiB/s  ETA 2.0s');
  });

  it('without a known size shows bytes and speed only', () => {
    expect(formatProgressLine({ ...state, totalBytes: undefined }, 100)).toBe('chat/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf  20.0 MiB  10.0 MiB/s');
  });
});

function recorder(isTTY: boolean) {
  const written: string[] = [];
  return { written, stream: { isTTY, columns: 100, write: (text: string) => written.push(text) } };
}

describe('progress output', () => {
  it('off a TTY writes one line per file, when it is done', () => {
    const { written, stream } = recorder(false);
    const progress = createDownloadProgress(stream, () => 0);
    progress.start('a.gguf', 100, 0);
    progress.advance(50);
    progress.advance(50);
    progress.finish('a.gguf  100 B  sha256 verified');
    expect(written).toEqual(['a.gguf  100 B  sha256 verified\n']);
  });

  it('on a TTY redraws one line in place at most every 100 ms, measuring speed over this run’s bytes', () => {
    const { written, stream } = recorder(true);
    let nowMs = 0;
    const progress = createDownloadProgress(stream, () => nowMs);
    progress.start('a.gguf', 4 * MiB, 2 * MiB); // resumed at 2 MiB
    nowMs = 50;
    progress.advance(MiB / 2); // too soon: not drawn
    nowMs = 1000;
    progress.advance(MiB / 2);
    progress.finish('a.gguf done');
    expect(written).toEqual([
      '\ra.gguf  [###############---------------]  50%  2.0 MiB/4.0 MiB  0 B/s  ETA ?\x1b[K',
      '\ra.gguf  [#######################-------]  75%  3.0 MiB/4.0 MiB  1.0 MiB/s  ETA 1.0s\x1b[K',
      '\r\x1b[K',
      'a.gguf done\n',
    ]);
  });

  it('abandon clears a live line so that an error prints on a clean one', () => {
    const { written, stream } = recorder(true);
    const progress = createDownloadProgress(stream, () => 0);
    progress.start('a.gguf', 10, 0);
    progress.abandon();
    progress.abandon();
    expect(written.slice(1)).toEqual(['\r\x1b[K']);
  });
});
