import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../adapters/spec/index.js';
import type { Attempt } from '../../../src/pipeline/attempt.js';
import { runChain, type ChainOptions } from '../../../src/pipeline/run-chain.js';
import type { Candidate } from '../../../src/routing/candidates.js';

const candidate = (modelId: string, extra: Partial<Candidate> = {}): Candidate => ({ modelId, backendId: modelId, upstreamModel: modelId, ...extra });
const options = (extra: Partial<ChainOptions<string>> = {}): ChainOptions<string> => ({
  signal: new AbortController().signal,
  routeOf: (c) => c.backendId,
  accountOf: (value) => ({ outputText: value }),
  ...extra,
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('runChain', () => {
  it('records each failed candidate as its own attempt, with its own error and time, before the one that answers', async () => {
    const attempts: Attempt[] = [];
    const success = await runChain(
      [candidate('a'), candidate('b'), candidate('c')],
      async (c) => {
        if (c.modelId === 'a') {
          await sleep(40);
          throw new SluiceError('upstream-unavailable', 'a is down');
        }
        if (c.modelId === 'b') throw new SluiceError('rate-limited', 'b is busy');
        return 'from c';
      },
      attempts,
      options(),
    );
    expect(success.candidate.modelId).toBe('c');
    expect(attempts.map((attempt) => [attempt.modelId, attempt.outcome, attempt.error?.kind])).toEqual([
      ['a', 'failed', 'upstream-unavailable'],
      ['b', 'failed', 'rate-limited'],
    ]);
    expect(attempts[0].latencyMs).toBeGreaterThanOrEqual(35);
    expect(attempts[1].latencyMs).toBeLessThan(30);
    expect(Object.isFrozen(attempts[0])).toBe(true);
  });

  it('keeps the earlier failures when a non-retryable one stops the chain', async () => {
    const attempts: Attempt[] = [];
    const run = runChain(
      [candidate('a'), candidate('b'), candidate('c')],
      async (c) => {
        if (c.modelId === 'a') throw new SluiceError('upstream-unavailable', 'a is down');
        throw new SluiceError('invalid-request', 'b says the request is wrong');
      },
      attempts,
      options(),
    );
    await expect(run).rejects.toMatchObject({ kind: 'invalid-request' });
    expect(attempts.map((attempt) => attempt.modelId)).toEqual(['a', 'b']);
  });

  it('names every candidate when all fail', async () => {
    const attempts: Attempt[] = [];
    const run = runChain([candidate('a'), candidate('b')], async (c) => Promise.reject(new SluiceError('timeout', `${c.modelId} timed out`)), attempts, options());
    await expect(run).rejects.toMatchObject({ kind: 'all-candidates-failed' });
    expect(attempts.map((attempt) => attempt.outcome)).toEqual(['failed', 'failed']);
  });

  it('escalates a weak scored answer to the next candidate, and keeps the escalated attempt', async () => {
    const attempts: Attempt[] = [];
    const success = await runChain([candidate('local', { scoreBeforeServing: true }), candidate('vendor')], async (c) => `answer of ${c.modelId}`, attempts, options({
      judge: async (value) => (value.includes('local') ? { score: 0.2, reasons: ['truncated'] } : { score: 1, reasons: [] }),
      threshold: 0.75,
    }));
    expect(success.candidate.modelId).toBe('vendor');
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ modelId: 'local', outcome: 'escalated', outputText: 'answer of local', quality: { score: 0.2, reasons: ['truncated'] } });
  });

  it('serves the weak answer after all when everyone after it fails', async () => {
    const attempts: Attempt[] = [];
    const success = await runChain(
      [candidate('local', { scoreBeforeServing: true }), candidate('vendor')],
      async (c) => {
        if (c.modelId === 'vendor') throw new SluiceError('upstream-unavailable', 'down');
        return 'weak';
      },
      attempts,
      options({ judge: async () => ({ score: 0.1, reasons: ['empty'] }), threshold: 0.75 }),
    );
    expect(success.candidate.modelId).toBe('local');
    expect(success.served).toBe(attempts[0]);
    expect(attempts.map((attempt) => [attempt.modelId, attempt.outcome])).toEqual([
      ['local', 'answered'],
      ['vendor', 'failed'],
    ]);
  });

  it('passes a good scored answer through without trying anyone else', async () => {
    const attempts: Attempt[] = [];
    let calls = 0;
    const success = await runChain([candidate('local', { scoreBeforeServing: true }), candidate('vendor')], async () => `call ${++calls}`, attempts, options({
      judge: async () => ({ score: 0.9, reasons: [] }),
      threshold: 0.75,
    }));
    expect(calls).toBe(1);
    expect(success.quality).toEqual({ score: 0.9, reasons: [] });
    expect(attempts).toHaveLength(0);
  });

  it('tries a budget-only candidate only after a paid one was refused for budget', async () => {
    const tried: string[] = [];
    const chain = [candidate('paid'), candidate('free', { onlyIfBudgetExceeded: true })];
    await expect(runChain(chain, async (c) => { tried.push(c.modelId); throw new SluiceError('upstream-unavailable', 'down'); }, [], options())).rejects.toMatchObject({ kind: 'upstream-unavailable' });
    expect(tried).toEqual(['paid']);
    tried.length = 0;
    const success = await runChain(chain, async (c) => {
      tried.push(c.modelId);
      if (c.modelId === 'paid') throw new SluiceError('budget-exceeded', 'cap');
      return 'free answer';
    }, [], options());
    expect(tried).toEqual(['paid', 'free']);
    expect(success.candidate.modelId).toBe('free');
  });
});
