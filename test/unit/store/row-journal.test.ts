/**
 * The log's journal: rows accepted and not yet written survive a process that dies without its
 * flush (SIGKILL), and reach the database on the next start; rows written leave no files behind.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchedInferenceLog } from '../../../src/store/batched-inference-log.js';
import { ControllableSink } from './controllable-sink.js';

let directory: string;
let spillPath: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'sluice-journal-'));
  spillPath = join(directory, 'inference-log.spill.jsonl');
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const open = (sink: ControllableSink, batchMaxRows = 100) =>
  BatchedInferenceLog.open({ sink, spillPath, batchMaxRows, flushIntervalMs: 60_000, retry: { attempts: 1, initialDelayMs: 1, maxDelayMs: 1 } });
const journalFiles = async () => (await readdir(directory)).filter((name) => name.includes('.journal.'));

describe('BatchedInferenceLog journal', () => {
  it('hands the rows a killed process had queued to the next one on the same data dir, once each', async () => {
    const first = new ControllableSink();
    const killed = await open(first);
    for (const id of ['a', 'b', 'c']) killed.append({ requestId: id, costUsd: 0.01 });
    // `killed` is abandoned here, as SIGKILL leaves it: no flush, no close, nothing written.
    expect(first.rows.size).toBe(0);
    const second = new ControllableSink();
    const restarted = await open(second);
    restarted.append({ requestId: 'd' });
    await restarted.flush();
    expect(second.order).toEqual(['a', 'b', 'c', 'd']);
    expect(second.rows.get('a#1')?.costUsd).toBe(0.01);
    await restarted.close();
    expect(await journalFiles()).toEqual([]);
  });

  it('keeps no file for rows already written, and none after close', async () => {
    const sink = new ControllableSink();
    const log = await open(sink, 10);
    for (let index = 0; index < 95; index += 1) log.append({ requestId: `r${index}` });
    await log.flush();
    expect(sink.rows.size).toBe(95);
    expect(await journalFiles()).toEqual([]);
    log.append({ requestId: 'late' });
    expect(await journalFiles()).toHaveLength(1); // queued, not yet written: on disk
    await log.close();
    expect(await journalFiles()).toEqual([]);
  });

  it('keeps the journal while the database is down, and the spill file takes the rows over', async () => {
    const sink = new ControllableSink();
    sink.isDown = true;
    const log = await open(sink);
    log.append({ requestId: 'x' });
    await log.flush(); // the insert fails: the row goes to the fsynced spill file
    expect(log.pending.spilled).toBe(1);
    expect(await journalFiles()).toEqual([]);
    sink.isDown = false;
    await log.flush();
    expect(sink.order).toEqual(['x']);
    await log.close();
  });
});
