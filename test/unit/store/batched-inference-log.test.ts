import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchedInferenceLog, type BatchedInferenceLogOptions } from '../../../src/store/batched-inference-log.js';
import { ControllableSink } from './controllable-sink.js';

let directory: string;
let spillPath: string;
const logs: BatchedInferenceLog[] = [];

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'sluice-log-'));
  spillPath = join(directory, 'inference-log.spill.jsonl');
});
afterEach(async () => {
  await Promise.all(logs.splice(0).map((log) => log.close()));
  await rm(directory, { recursive: true, force: true });
});

async function openLog(sink: ControllableSink, options: Partial<BatchedInferenceLogOptions> = {}) {
  const log = await BatchedInferenceLog.open({
    sink,
    spillPath,
    flushIntervalMs: 60_000, // tests drive writes through batch size and flush()
    retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 4 },
    ...options,
  });
  logs.push(log);
  return log;
}

const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, index) => `req-${from + index}`);

async function spillLines(): Promise<string[]> {
  const text = await readFile(spillPath, 'utf8').catch(() => '');
  return text.split('\n').filter((line) => line !== '');
}

describe('BatchedInferenceLog batching', () => {
  it('writes a full batch at once, as one insert, and the rest on flush', async () => {
    const sink = new ControllableSink();
    const log = await openLog(sink, { batchMaxRows: 10 });
    const flushed = once(log, 'flushed');
    for (const id of ids(0, 25)) log.append({ requestId: id });
    expect(await flushed).toEqual([{ rows: 10, source: 'queue' }]);
    await log.flush();
    expect(sink.batchSizes).toEqual([10, 10, 5]);
    expect(sink.order).toEqual(ids(0, 25));
  });

  it('never splits the attempts of one request across two inserts', async () => {
    const sink = new ControllableSink();
    const log = await openLog(sink, { batchMaxRows: 4 });
    const flushed = once(log, 'flushed');
    for (const id of ids(0, 3)) log.append({ requestId: id });
    // An escalated request: three attempts, appended together, straddling the batch size.
    for (const attempt of [1, 2, 3]) log.append({ requestId: 'escalated', attempt });
    for (const id of ids(3, 5)) log.append({ requestId: id });
    expect(await flushed).toEqual([{ rows: 6, source: 'queue' }]);
    await log.flush();
    expect(sink.batchSizes).toEqual([6, 2]);
  });

  it('writes a partial batch when the interval passes', async () => {
    const sink = new ControllableSink();
    const log = await openLog(sink, { batchMaxRows: 100, flushIntervalMs: 5 });
    log.append({ requestId: 'only' });
    expect(await once(log, 'flushed')).toEqual([{ rows: 1, source: 'queue' }]);
    expect(sink.order).toEqual(['only']);
  });

  it('a flush writes what was queued when it began: rows that arrive meanwhile wait for a full batch', async () => {
    const sink = new ControllableSink();
    let release!: () => void;
    let started!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const isWriting = new Promise<void>((resolve) => (started = resolve));
    const insert = sink.insert.bind(sink);
    sink.insert = async (rows) => {
      started();
      await gate;
      return insert(rows);
    };
    const log = await openLog(sink, { batchMaxRows: 100 });
    for (const id of ids(0, 3)) log.append({ requestId: id });
    const flushed = log.flush();
    await isWriting;
    // A busy gateway: rows keep coming while the insert runs.
    for (const id of ids(3, 7)) log.append({ requestId: id });
    release();
    await flushed;
    expect(sink.batchSizes).toEqual([3]);
    expect(log.pending.queued).toBe(4);
    await log.close(); // close writes everything
    expect(sink.order).toEqual(ids(0, 7));
  });

  it('append never throws and returns before anything is written', async () => {
    const sink = new ControllableSink();
    const log = await openLog(sink);
    expect(() => log.append({ requestId: 'r', latencyMs: Number.NaN, costUsd: Infinity })).not.toThrow();
    expect(sink.calls).toBe(0);
    await log.flush();
    const row = sink.rows.get('r#1');
    expect(row?.latencyMs).toBeUndefined();
    expect(row?.costUsd).toBeUndefined();
  });

  it('drops, with an event, rows appended after close', async () => {
    const sink = new ControllableSink();
    const log = await openLog(sink);
    await log.close();
    const dropped = once(log, 'dropped');
    log.append({ requestId: 'late' });
    expect((await dropped)[0]).toMatchObject({ rows: 1, reason: 'closed' });
  });
});

describe('BatchedInferenceLog retry and spill', () => {
  it('retries a failed insert with backoff and writes once the sink recovers', async () => {
    const sink = new ControllableSink();
    const log = await openLog(sink, { batchMaxRows: 5 });
    const attempts: number[] = [];
    log.on('sinkError', ({ attempt }) => attempts.push(attempt));
    sink.failNext = 2;
    for (const id of ids(0, 5)) log.append({ requestId: id });
    await once(log, 'flushed');
    expect(attempts).toEqual([1, 2]);
    expect(sink.order).toEqual(ids(0, 5));
    expect(await spillLines()).toEqual([]);
  });

  it('spills to disk when retries run out, and replays in order before newer rows', async () => {
    const sink = new ControllableSink();
    const log = await openLog(sink, { batchMaxRows: 5 });
    sink.isDown = true;
    const spilled = once(log, 'spilled');
    for (const id of ids(0, 12)) log.append({ requestId: id });
    await spilled;
    await log.flush();
    expect(log.pending).toMatchObject({ queued: 0, spilled: 12 });
    expect((await spillLines()).map((line) => JSON.parse(line).requestId)).toEqual(ids(0, 12));

    sink.isDown = false;
    for (const id of ids(12, 15)) log.append({ requestId: id });
    await log.flush();
    expect(sink.order).toEqual(ids(0, 15));
    expect(await spillLines()).toEqual([]); // truncated only after the rows were confirmed
    expect(log.pending).toMatchObject({ queued: 0, spilled: 0, written: 15 });
  });

  it('spills the queue when it passes its bound, without waiting for the sink', async () => {
    const sink = new ControllableSink();
    sink.isDown = true;
    const log = await openLog(sink, { batchMaxRows: 1000, maxQueueRows: 3 });
    const spilled = once(log, 'spilled');
    for (const id of ids(0, 4)) log.append({ requestId: id });
    expect(await spilled).toEqual([{ rows: 4 }]);
    expect(sink.calls).toBe(0);
    sink.isDown = false;
    await log.flush();
    expect(sink.order).toEqual(ids(0, 4));
  });

  it('keeps spilled rows across a restart and replays them on start-up', async () => {
    const sink = new ControllableSink();
    sink.isDown = true;
    const first = await openLog(sink, { batchMaxRows: 4 });
    for (const id of ids(0, 10)) first.append({ requestId: id });
    await first.close();
    expect(await spillLines()).toHaveLength(10);

    sink.isDown = false;
    const second = await openLog(sink, { batchMaxRows: 4 });
    expect(await once(second, 'flushed')).toEqual([{ rows: 10, source: 'spill' }]);
    second.append({ requestId: 'after-restart' });
    await second.flush();
    expect(sink.order).toEqual([...ids(0, 10), 'after-restart']);
    expect(await spillLines()).toEqual([]);
  });

  it('skips a line torn by a crash and keeps the rows around it', async () => {
    const good = (id: string) => JSON.stringify({ requestId: id, attempt: 1, createdAt: new Date().toISOString() });
    await writeFile(spillPath, `${good('a')}\n{"requestId":"tor`);
    const sink = new ControllableSink();
    const log = await openLog(sink);
    log.append({ requestId: 'b' });
    await log.flush();
    expect(sink.order).toEqual(['a', 'b']);
    expect(await spillLines()).toEqual([]);
  });

  it('a replay that fails halfway repeats rows without duplicating them (the sink ignores conflicts)', async () => {
    const sink = new ControllableSink();
    sink.isDown = true;
    const log = await openLog(sink, { batchMaxRows: 2 });
    for (const id of ids(0, 6)) log.append({ requestId: id });
    await log.flush();
    sink.isDown = false;
    let calls = 0;
    const insert = sink.insert.bind(sink);
    sink.insert = async (rows) => {
      calls += 1;
      if (calls === 2) throw new Error('connection lost mid-replay');
      return insert(rows);
    };
    await log.flush(); // first head batch written, second fails: the file is kept whole
    expect(await spillLines()).toHaveLength(6);
    await log.flush();
    expect(sink.order).toEqual(ids(0, 6));
    expect(await spillLines()).toEqual([]);
  });
});
