/**
 * Fault: the PostgreSQL the inference log writes to stops mid-run, with requests in flight, and
 * starts again on the same port and data. The request path never waits on the database (the log
 * is append-and-return), so requests keep being answered while it is away; the log retries a
 * batch, then spills to disk and probes with backoff, and replays once the database is back.
 * Afterwards every accepted request has exactly one row per attempt — none lost, none twice — and
 * the ledger charged exactly what those rows cost.
 */
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BatchedInferenceLog } from '../../src/store/batched-inference-log.js';
import {
  chatBurst,
  expectLedgerMatchesLog,
  expectStillServing,
  faultModel,
  failureCount,
  ledgerMicroUsd,
  startFaultGateway,
  type BurstOutcome,
  type FaultGateway,
} from '../support/fault-accounting.js';

const BURST = 60;
const STREAMS = 12;
const CONCURRENCY = 8;
/** A request answered while the database is down must not wait on it: well under any timeout. */
const MAX_ANSWER_MS = 5_000;
/** How long the log may take to notice the database is back and replay its spill file. */
const REPLAY_MS = 20_000;

/** Fails ~30% of questions, so some requests leave two rows (attempt 1 failed, 2 answered). */
const MODEL = 'openai-flaky-500';

let fault: FaultGateway;
let log: BatchedInferenceLog;
const dropped: unknown[] = [];

beforeAll(async () => {
  fault = await startFaultGateway(
    (raw) => {
      raw.models.push(faultModel(MODEL, 'fake-flaky-500', 'openai', ['deepseek-chat']));
    },
    20_000,
    // Short retries and small batches, so the outage reaches the spill file within the test.
    { batchMaxRows: 20, retry: { attempts: 2, initialDelayMs: 20, maxDelayMs: 200 } },
  );
  if (!(fault.store.inferenceLog instanceof BatchedInferenceLog)) throw new Error('expected the batched inference log');
  log = fault.store.inferenceLog;
  log.on('dropped', (event) => dropped.push(event));
}, 60_000);
afterAll(() => fault?.close());

/** Streamed questions read to their end through the SDK; what the client saw, as chatBurst counts it. */
async function streamBurst(client: OpenAI, count: number, label: string): Promise<BurstOutcome> {
  const outcome: BurstOutcome = { requestIds: [], failures: new Map(), fellBack: 0, slowestMs: 0 };
  await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const startedMs = performance.now();
      try {
        const { data: stream, response } = await client.chat.completions
          .create({ model: MODEL, messages: [{ role: 'user', content: `${label} stream ${index}` }], stream: true })
          .withResponse();
        outcome.requestIds.push(response.headers.get('x-sluice-request-id')!);
        if (response.headers.get('x-sluice-fallback-from')) outcome.fellBack++;
        let text = '';
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
        expect(text).toBe(`You said: ${label} stream ${index}`);
      } catch (error) {
        const status = error instanceof OpenAI.APIError ? (error.status ?? 'no status') : String(error);
        outcome.failures.set(status, (outcome.failures.get(status) ?? 0) + 1);
      }
      outcome.slowestMs = Math.max(outcome.slowestMs, performance.now() - startedMs);
    }),
  );
  return outcome;
}

/** A JSON burst and a streamed one at once, merged. */
async function mixedTraffic(label: string): Promise<BurstOutcome> {
  const [json, streamed] = await Promise.all([chatBurst(fault.client, MODEL, BURST, CONCURRENCY, label), streamBurst(fault.client, STREAMS, label)]);
  const failures = new Map(json.failures);
  for (const [status, count] of streamed.failures) failures.set(status, (failures.get(status) ?? 0) + count);
  return {
    requestIds: [...json.requestIds, ...streamed.requestIds],
    failures,
    fellBack: json.fellBack + streamed.fellBack,
    slowestMs: Math.max(json.slowestMs, streamed.slowestMs),
  };
}

function expectAllAnswered(outcome: BurstOutcome, phase: string): void {
  expect(Object.fromEntries(outcome.failures), `failures ${phase}`).toEqual({});
  expect(outcome.requestIds).toHaveLength(BURST + STREAMS);
  expect(outcome.slowestMs, `slowest request ${phase}`).toBeLessThan(MAX_ANSWER_MS);
}

describe('PostgreSQL stopped and restarted mid-run', () => {
  it('keeps answering while it is away, and afterwards the log has one row per attempt and the ledger matches it', async () => {
    const before = await ledgerMicroUsd(fault.sluice.origin);

    const up = await mixedTraffic('before');
    expectAllAnswered(up, 'before the outage');
    await log.flush();
    expect(log.pending).toMatchObject({ queued: 0, spilled: 0 });

    // Stopped while a burst is in flight: some of its rows are written, the rest must wait.
    const spilled = new Promise((resolve) => log.once('spilled', resolve));
    const vendorCalls = () => fault.sluice.deepseek.requests.length + fault.sluice.openai.requests.length;
    const callsBefore = vendorCalls();
    const during = mixedTraffic('during');
    await vi.waitFor(() => expect(vendorCalls() - callsBefore).toBeGreaterThan(BURST / 2), {
      timeout: 10_000,
      interval: 5,
    });
    await fault.postgres.stop();
    const down = await during;
    expectAllAnswered(down, 'while the database stopped');
    // Requests sent with the database wholly away are answered just the same.
    const away = await mixedTraffic('away');
    expectAllAnswered(away, 'while the database was away');
    await spilled; // the log gave up on the database for now and put the rows on disk
    expect(log.pending.spilled).toBeGreaterThan(0);
    expect((await fetch(`${fault.sluice.origin}/health`)).status).toBe(200);

    await fault.postgres.start();
    const back = await mixedTraffic('after');
    expectAllAnswered(back, 'after the restart');
    await vi.waitFor(
      async () => {
        await log.flush();
        expect(log.pending).toMatchObject({ queued: 0, spilled: 0 });
      },
      { timeout: REPLAY_MS, interval: 200 },
    );
    expect(dropped).toEqual([]);

    const phases = [up, down, away, back];
    const requestIds = phases.flatMap((phase) => phase.requestIds);
    const fellBack = phases.reduce((sum, phase) => sum + phase.fellBack, 0);
    expect(new Set(requestIds).size).toBe(requestIds.length);
    expect(fellBack, 'the flaky vendor really failed some').toBeGreaterThan(0);
    console.log(
      `[faults] database restart: ${requestIds.length} requests (${fellBack} fell back), client saw ${phases.reduce((sum, phase) => sum + failureCount(phase), 0)} failures; ` +
        `slowest while down ${Math.round(Math.max(down.slowestMs, away.slowestMs))} ms`,
    );

    // One row per attempt: attempts 1..n with no gap and no repeat, exactly one answered.
    const { rows } = await fault.store.database.query<{ request_id: string; attempts: number[]; answered: string }>(
      `select request_id, array_agg(attempt order by attempt) as attempts, count(*) filter (where outcome = 'answered') as answered
         from model_inferences where request_id = any($1) group by request_id`,
      [requestIds],
    );
    expect(rows).toHaveLength(requestIds.length);
    const shapes = new Map<string, number>();
    for (const row of rows) {
      expect(Number(row.answered), `answered rows of ${row.request_id}`).toBe(1);
      const shape = row.attempts.join(',');
      shapes.set(shape, (shapes.get(shape) ?? 0) + 1);
    }
    expect(Object.fromEntries(shapes)).toEqual({ '1': requestIds.length - fellBack, '1,2': fellBack });
    await expectLedgerMatchesLog(fault, before, requestIds);
    await expectStillServing(fault);
  }, 120_000);
});
