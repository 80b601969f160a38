import type { OutputStream } from './command-context.js';
import { formatBytes, formatSeconds } from './format-units.js';

export interface ProgressState {
  label: string;
  /** Bytes of the file on disk so far, resumed bytes included. */
  doneBytes: number;
  totalBytes: number | undefined;
  /** Measured over this run's bytes only, so a resume does not look instantly fast. */
  bytesPerSecond: number;
}

const MAX_BAR_WIDTH = 30;
const MIN_BAR_WIDTH = 10;
const MIN_LABEL_WIDTH = 16;
const REDRAW_EVERY_MS = 100;

/**
 * `chat/model.gguf  [#######-------]  48%  19.5 MiB/40.0 MiB  9.2 MiB/s  ETA 2.2s`, fitted to
 * `columns`: the label is shortened from the left (its end names the file), then the bar narrows,
 * then goes.
 */
export function formatProgressLine(state: ProgressState, columns: number): string {
  const { doneBytes, totalBytes, bytesPerSecond } = state;
  const speed = `${formatBytes(Math.round(bytesPerSecond))}/s`;
  const hasTotal = totalBytes !== undefined && totalBytes > 0;
  const fraction = hasTotal ? Math.min(1, doneBytes / totalBytes) : 0;
  const eta = bytesPerSecond > 0 && hasTotal ? formatSeconds((totalBytes - doneBytes) / bytesPerSecond) : '?';
  const stats = hasTotal
    ? `${Math.floor(fraction * 100)}%`.padStart(4) + `  ${formatBytes(doneBytes)}/${formatBytes(totalBytes)}  ${speed}  ETA ${eta}`
    : `${formatBytes(doneBytes)}  ${speed}`;
  const width = columns - 1; // writing the last column makes some terminals wrap
  const room = width - stats.length - 2; // for the label and the bar
  const fit = (labelWidth: number) =>
    labelWidth < state.label.length ? `…${state.label.slice(state.label.length - labelWidth + 1)}` : state.label;
  let label = fit(Math.min(state.label.length, Math.max(MIN_LABEL_WIDTH, room - (MIN_BAR_WIDTH + 3))));
  const barWidth = Math.min(MAX_BAR_WIDTH, room - label.length - 3);
  let bar = '';
  if (hasTotal && barWidth >= MIN_BAR_WIDTH) {
    const filled = Math.round(fraction * barWidth);
    bar = `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] `;
  } else {
    label = fit(Math.min(state.label.length, Math.max(MIN_LABEL_WIDTH, room)));
  }
  return `${label}  ${bar}${stats}`.slice(0, width);
}

export interface DownloadProgress {
  start(label: string, totalBytes: number | undefined, resumedBytes: number): void;
  advance(bytes: number): void;
  /** Ends the file's progress; `line` is what stays on screen (and the only output off a TTY). */
  finish(line: string): void;
  /** Clears a live line before an error message is printed. */
  abandon(): void;
}

/**
 * On a TTY: one line redrawn in place (carriage return, erase to end of line), at most every
 * 100 ms. Anywhere else (a log file, CI): nothing until the file is done, then one line.
 */
export function createDownloadProgress(stream: OutputStream, now: () => number = () => performance.now()): DownloadProgress {
  const isLive = stream.isTTY === true;
  let state: ProgressState = { label: '', doneBytes: 0, totalBytes: undefined, bytesPerSecond: 0 };
  let startedAtMs = 0;
  let resumedBytes = 0;
  let drawnAtMs = -Infinity;
  let isDrawn = false;

  const draw = () => {
    stream.write(`\r${formatProgressLine(state, stream.columns || 80)}\x1b[K`);
    drawnAtMs = now();
    isDrawn = true;
  };
  const clear = () => {
    if (isDrawn) stream.write('\r\x1b[K');
    isDrawn = false;
  };

  return {
    start(label, totalBytes, alreadyBytes) {
      state = { label, doneBytes: alreadyBytes, totalBytes, bytesPerSecond: 0 };
      startedAtMs = now();
      resumedBytes = alreadyBytes;
      if (isLive) draw();
    },
    advance(bytes) {
      state.doneBytes += bytes;
      if (!isLive || now() - drawnAtMs < REDRAW_EVERY_MS) return;
      const elapsedSeconds = (now() - startedAtMs) / 1000;
      state.bytesPerSecond = elapsedSeconds > 0 ? (state.doneBytes - resumedBytes) / elapsedSeconds : 0;
      draw();
    },
    finish(line) {
      clear();
      stream.write(`${line}\n`);
    },
    abandon: clear,
  };
}
