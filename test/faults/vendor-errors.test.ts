/**
 * Fault: the vendor answers with an error — OpenAI's 500 and 429 (with retry-after), Anthropic's
 * 529 overloaded. With a second vendor in the chain, a burst of distinct questions against a first
 * vendor that fails 30% of them: the client must see (almost) no failure. Without one: a clean
 * OpenAI error with the right status. Either way the ledger charges exactly what the log records.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLAKY_SHARE } from '../fakes/fake-vendor-faults.js';
import {
  chatBurst,
  expectLedgerMatchesLog,
  expectStillServing,
  faultModel,
  failureCount,
  ledgerMicroUsd,
  startFaultGateway,
  type FaultGateway,
} from '../support/fault-accounting.js';

const BURST = 200;
const CONCURRENCY = 16;
/** The target for the failure rate a client sees where a fallback exists. */
const MAX_FAILURE_RATE = 0.01;


let fault: FaultGateway;

beforeAll(async () => {
  fault = await startFaultGateway((raw) => {
    raw.models.push(
      faultModel('openai-flaky-500', 'fake-flaky-500', 'openai', ['deepseek-chat']),
      faultModel('openai-flaky-429', 'fake-flaky-429', 'openai', ['claude-3-5-sonnet-latest']),
      faultModel('claude-flaky-529', 'fake-flaky-529', 'anthropic', ['gpt-4o-mini']),
      faultModel('openai-500', 'fake-500', 'openai'),
      faultModel('claude-529', 'fake-529', 'anthropic'),
    );
  });
}, 60_000);
afterAll(() => fault?.close());

describe.each([
  { model: 'openai-flaky-500', fault: 'OpenAI 500', fallbackModel: 'deepseek-chat' },
  { model: 'openai-flaky-429', fault: 'OpenAI 429 + retry-after', fallbackModel: 'claude-3-5-sonnet-latest' },
  { model: 'claude-flaky-529', fault: 'Anthropic 529 overloaded', fallbackModel: 'gpt-4o-mini' },
])('$fault on $model, with a fallback', ({ model, fault: name, fallbackModel }) => {
  it(`a burst of ${BURST} sees a failure rate under 1%, and the ledger matches the log`, async () => {
    const before = await ledgerMicroUsd(fault.sluice.origin);
    const outcome = await chatBurst(fault.client, model, BURST, CONCURRENCY);
    const failed = failureCount(outcome);
    const rate = failed / BURST;
    console.log(
      `[faults] ${name}: ${BURST} requests, first vendor failed ${outcome.fellBack} (${((100 * outcome.fellBack) / BURST).toFixed(1)}%), ` +
        `client saw ${failed} failures (${(100 * rate).toFixed(2)}%), slowest ${Math.round(outcome.slowestMs)} ms`,
    );
    expect(rate).toBeLessThan(MAX_FAILURE_RATE);
    // The fault really happened, about as often as the fake was told to fail.
    expect(outcome.fellBack).toBeGreaterThan(BURST * FLAKY_SHARE * 0.5);
    expect(outcome.fellBack).toBeLessThan(BURST * FLAKY_SHARE * 1.5);
    await expectLedgerMatchesLog(fault, before, outcome.requestIds);
    // One row per attempt: every request one, each that fell back one more.
    const { rows } = await fault.store.database.query<{ rows: string }>('select count(*) as rows from model_inferences where request_id = any($1)', [
      outcome.requestIds,
    ]);
    expect(Number(rows[0].rows)).toBe(BURST + outcome.fellBack);
    const answeredBy = await fault.store.database.query<{ model_id: string; answered: string }>(
      `select model_id, count(*) as answered from model_inferences where request_id = any($1) and outcome = 'answered' group by model_id order by model_id`,
      [outcome.requestIds],
    );
    expect(answeredBy.rows.map((row) => [row.model_id, Number(row.answered)]).sort()).toEqual(
      [[model, BURST - outcome.fellBack], [fallbackModel, outcome.fellBack]].sort(),
    );
    await expectStillServing(fault);
  }, 60_000);
});

describe('with no candidate left', () => {
  it.each([
    { model: 'openai-500', status: 503, code: 'upstream_unavailable' },
    { model: 'claude-529', status: 503, code: 'upstream_unavailable' },
    { model: 'only-429', status: 429, code: 'rate_limit_exceeded' },
  ])('$model: a clean OpenAI error ($status $code), nothing charged, one failed row', async ({ model, status, code }) => {
    const before = await ledgerMicroUsd(fault.sluice.origin);
    const error = await fault.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'fail please' }] }).catch((caught) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error.status).toBe(status);
    expect(error.error).toEqual({ message: expect.any(String), type: status === 429 ? 'rate_limit_error' : 'upstream_error', param: null, code });
    if (status === 429) expect(error.headers.get('retry-after')).toBe('7'); // the vendor's own, passed on
    const requestId = error.headers.get('x-sluice-request-id');
    await expectLedgerMatchesLog(fault, before, [requestId]);
    expect((await ledgerMicroUsd(fault.sluice.origin)).spent).toBe(before.spent);
    const { rows } = await fault.store.database.query<{ outcome: string }>('select outcome from model_inferences where request_id = $1', [requestId]);
    expect(rows).toEqual([{ outcome: 'failed' }]);
    await expectStillServing(fault);
  });
});
