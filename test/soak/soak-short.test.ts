/**
 * The soak's CI form: `load-tests/soak.ts` for two minutes (`make soak` runs thirty) against a
 * gateway process of its own, with mixed traffic and injected errors. It must end with the
 * gateway's resident memory no more than 15% above what it was just after the warm-up, every
 * request answered as its kind expects (the injected errors as clean OpenAI errors), the load
 * really sent at its pace, the gateway sampled every 10 s throughout, and afterwards its log
 * holding rows for exactly the requests sent, their cost exactly what the ledger charged.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const SECONDS = 120;
const RPS = 50;
const MAX_RSS_GROWTH = 0.15;

interface SoakResult {
  seconds: number;
  sent: number;
  injected: number;
  unexpected: number;
  byKind: Record<string, { sent: number; unexpected: number }>;
  baselineMiB: number;
  endMiB: number;
  rssGrowth: number;
  accounting: {
    requestIds: number;
    missingFromLog: number;
    strangersInLog: number;
    logRows: number;
    logMicroUsd: number;
    ledgerSpentMicroUsd: number;
    ledgerHeldMicroUsd: number;
  };
  samples: { atSeconds: number; rssMiB: number; lagP99Ms: number }[];
}

function runSoak(): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'load-tests/soak.ts'], {
    env: { ...process.env, SOAK_SECONDS: String(SECONDS), SOAK_RPS: String(RPS), SOAK_SAMPLE_SECONDS: '10', SOAK_WARMUP_SECONDS: '30' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

describe('soak, two minutes', () => {
  it('keeps RSS within 15% after warm-up, answers every request as expected, and the log and the ledger agree', async () => {
    const { code, output } = await runSoak();
    console.log(output.split('\n').filter((line) => !line.startsWith('SOAK_RESULT')).join('\n'));
    const line = output.split('\n').find((row) => row.startsWith('SOAK_RESULT '));
    expect(line, output.slice(-2000)).toBeDefined();
    const result = JSON.parse(line!.slice('SOAK_RESULT '.length)) as SoakResult;

    expect(result.unexpected, 'requests answered otherwise than their kind expects').toBe(0);
    expect(result.injected, 'injected errors (vendor 500 without fallback, a refused body)').toBeGreaterThan(0);
    for (const [kind, tally] of Object.entries(result.byKind)) expect(tally.sent, `${kind} requests sent`).toBeGreaterThan(0);
    expect(result.sent, 'the load kept its pace').toBeGreaterThan(0.8 * SECONDS * RPS);
    expect(result.samples.length).toBeGreaterThanOrEqual(SECONDS / 10 - 1);
    expect(result.samples.every((sample) => sample.rssMiB > 0)).toBe(true);
    expect(result.rssGrowth, `RSS ${result.baselineMiB.toFixed(1)} → ${result.endMiB.toFixed(1)} MiB`).toBeLessThanOrEqual(MAX_RSS_GROWTH);
    const { accounting } = result;
    expect(accounting.requestIds, 'every request got a request id').toBe(result.sent);
    expect(accounting.missingFromLog, 'requests without a log row').toBe(0);
    expect(accounting.strangersInLog, 'log rows of requests never sent').toBe(0);
    expect(accounting.logRows).toBeGreaterThanOrEqual(result.sent + result.byKind.fallback.sent * 0.1); // the flaky vendor's failed attempts have rows too
    expect(accounting.ledgerHeldMicroUsd).toBe(0);
    expect(accounting.ledgerSpentMicroUsd, 'charged vs what the log’s rows cost').toBe(accounting.logMicroUsd);
    expect(accounting.logMicroUsd).toBeGreaterThan(0);
    expect(code).toBe(0);
  }, (SECONDS + 120) * 1000);
});
