/**
 * What the fault-injection suite (test/faults) checks after every fault: the budget ledger as the
 * gateway reports it (`/metrics`), the inference log as the database holds it, and the gateway
 * still answering. Also a bounded-concurrency burst that counts what the client saw.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import { expect } from 'vitest';
import { openStore, type SluiceStore, type StoreOptions } from '../../src/store/open-store.js';
import { startTestGateway, type TestGateway } from './gateway-harness.js';
import { startPostgresServer, type PostgresServer } from './postgres-server.js';

/**
 * A priced chat model the fault suite points at a fault scenario of the fakes (`upstream_model`),
 * with the models to fall back to, if any.
 */
export function faultModel(id: string, upstreamModel: string, backend: string, fallback?: string[]): Record<string, unknown> {
  return { id, upstream_model: upstreamModel, backend, capabilities: ['chat', 'stream', 'tools', 'json'], price: { input_per_1m: 1, output_per_1m: 2 }, ...(fallback && { fallback }) };
}

export interface FaultGateway {
  sluice: TestGateway;
  store: SluiceStore;
  /** The real PostgreSQL the log writes to (stop and start it for a database outage). */
  postgres: PostgresServer;
  /** The official SDK with its own retries off, so what it sees is the gateway's behaviour. */
  client: OpenAI;
  close(): Promise<void>;
}

/**
 * The test gateway with a real inference log on a real PostgreSQL (test/support/postgres-server:
 * started in about 2 s, where a fresh PGlite takes 5–20 s on a busy 2-core machine), and the SDK
 * pointed at it. `logOptions` tune the log's batching and retries (a database outage).
 */
export async function startFaultGateway(
  patch: (raw: Record<string, any>) => void,
  timeoutMs = 20_000,
  logOptions: StoreOptions['inferenceLog'] = {},
): Promise<FaultGateway> {
  const postgres = await startPostgresServer();
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'sluice-faults-')), databaseUrl: postgres.url, inferenceLog: { flushIntervalMs: 20, ...logOptions } });
  const sluice = await startTestGateway(patch, { inferenceLog: store.inferenceLog, store });
  const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: sluice.apiKey, maxRetries: 0, timeout: timeoutMs });
  return {
    sluice,
    store,
    postgres,
    client,
    async close() {
      await sluice.close(); // flushes the log and closes the store
      await postgres.destroy();
    },
  };
}

/** Global spend and holds in micro-USD, as `/metrics` reports the ledger. */
export async function ledgerMicroUsd(origin: string): Promise<{ spent: number; held: number }> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const read = (kind: string) => {
    const line = text.split('\n').find((row) => row.startsWith(`sluice_budget_usd{scope="global",kind="${kind}"}`));
    if (line === undefined) throw new Error(`no global ${kind} figure in /metrics`);
    return Math.round(Number(line.split(' ').at(-1)) * 1e6);
  };
  return { spent: read('spent'), held: read('held') };
}

export interface LogTotals {
  rows: number;
  requests: number;
  /** Sum of the rows' cost, each rounded to the micro-dollar as the ledger keeps it. */
  costMicroUsd: number;
}

/** The log’s totals after a flush, over the rows of `requestIds` (all rows without it). */
export async function logTotals(store: SluiceStore, requestIds?: readonly string[]): Promise<LogTotals> {
  await store.inferenceLog.flush();
  const filter = requestIds ? 'where request_id = any($1)' : '';
  const { rows } = await store.database.query<{ rows: string; requests: string; cost: string | null }>(
    `select count(*) as rows, count(distinct request_id) as requests, sum(round(coalesce(cost, 0) * 1000000)) as cost from model_inferences ${filter}`,
    requestIds ? [requestIds] : [],
  );
  return { rows: Number(rows[0].rows), requests: Number(rows[0].requests), costMicroUsd: Number(rows[0].cost ?? 0) };
}

/**
 * The ledger and the log agree: every request sent left rows, nothing is held any more, and what
 * was charged since `before` is exactly what the log's rows cost.
 */
export async function expectLedgerMatchesLog(fault: FaultGateway, before: { spent: number }, requestIds: readonly string[]): Promise<void> {
  const totals = await logTotals(fault.store, requestIds);
  expect(totals.requests, 'requests with at least one log row').toBe(new Set(requestIds).size);
  const ledger = await ledgerMicroUsd(fault.sluice.origin);
  expect(ledger.held, 'micro-USD still held after every request ended').toBe(0);
  expect(ledger.spent - before.spent, 'micro-USD charged vs the log rows’ cost').toBe(totals.costMicroUsd);
}

export async function expectStillServing(fault: FaultGateway): Promise<void> {
  expect((await fetch(`${fault.sluice.origin}/health`)).status).toBe(200);
  const answer = await fault.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'still there?' }] });
  expect(answer.choices[0].message.content).toBe('You said: still there?');
}

export interface BurstOutcome {
  requestIds: string[];
  /** Requests the client saw fail (an error status or a thrown SDK error), by status. */
  failures: Map<number | string, number>;
  /** Requests answered by a later candidate (`x-sluice-fallback-from` set). */
  fellBack: number;
  slowestMs: number;
}

/**
 * `count` distinct questions to `model`, at most `concurrency` at once, through the SDK. A burst
 * with another `label` asks other questions (a flaky fake fails by the question).
 */
export async function chatBurst(client: OpenAI, model: string, count: number, concurrency: number, label = 'burst'): Promise<BurstOutcome> {
  const outcome: BurstOutcome = { requestIds: [], failures: new Map(), fellBack: 0, slowestMs: 0 };
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const startedMs = performance.now();
      try {
        const { response } = await client.chat.completions
          .create({ model, messages: [{ role: 'user', content: `${label} question ${index} for ${model}` }] })
          .withResponse();
        outcome.requestIds.push(response.headers.get('x-sluice-request-id')!);
        if (response.headers.get('x-sluice-fallback-from')) outcome.fellBack++;
      } catch (error) {
        const status = error instanceof OpenAI.APIError ? (error.status ?? 'no status') : String(error);
        outcome.failures.set(status, (outcome.failures.get(status) ?? 0) + 1);
        const requestId = error instanceof OpenAI.APIError ? error.headers?.get('x-sluice-request-id') : undefined;
        if (requestId) outcome.requestIds.push(requestId);
      }
      outcome.slowestMs = Math.max(outcome.slowestMs, performance.now() - startedMs);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return outcome;
}

export interface RawStream {
  status: number;
  headers: Headers;
  /** The `data:` payloads in order, `[DONE]` included when it came. */
  frames: string[];
  wallMs: number;
}

/**
 * A streamed chat read off the socket to its end. `limitMs` bounds the wait: a stream the gateway
 * leaves open longer rejects (a hang), instead of holding the test to its own timeout.
 */
export async function rawChatStream(baseURL: string, model: string, limitMs: number, content = 'one two three four five'): Promise<RawStream> {
  const startedMs = performance.now();
  const response = await fetch(`${baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }], stream: true }),
    signal: AbortSignal.timeout(limitMs),
  });
  const text = await response.text();
  const frames = text
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => frame.slice('data: '.length));
  return { status: response.status, headers: response.headers, frames, wallMs: performance.now() - startedMs };
}

export function failureCount(outcome: BurstOutcome): number {
  return [...outcome.failures.values()].reduce((sum, count) => sum + count, 0);
}
