/**
 * `make eval`, end to end: the labelled set (eval/routing/*.jsonl) through a live gateway — the
 * shipped config/sluice.yaml, the local chat model, the quality validator and its escalations,
 * the response cache, the inference log on PGlite — with every vendor a loopback oracle that
 * answers each item correctly (eval/oracle-vendors.ts), at a concurrency of 4. Each answer is
 * graded by its item's check. Prints tier accuracy and the confusion matrix, local share, final
 * pass rate (against all-premium, which answers every item right), escalation rate, the
 * validator's ROC AUC on the local answers it scored (from the log), cost per request against
 * all to Claude, and latency p50/p95 per tier, per split and weighted to the plan's mix.
 *
 *   node --import tsx eval/run-live-eval.ts [--split all|train|heldout] [--per-tier N] [--concurrency 4] [--why]
 *     [--max-local-wait-ms N]   (routing.max_local_wait_ms: how long a request may wait for the local model)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadConfig } from '../src/config/load.js';
import type { Config, Tier } from '../src/config/schema.js';
import { buildGateway, createAdapters } from '../src/gateway.js';
import { rocAuc } from '../src/quality/calibration.js';
import { openStore } from '../src/store/open-store.js';
import { startOracleVendors } from './oracle-vendors.js';
import { liveFigures, liveTable, type LiveOutcome } from './live-metrics.js';
import { oracleTokens, tokensCostUsd } from './routing-metrics.js';
import { passesCheck } from './routing/answer-check.js';
import { loadRoutingSet, type LoadedItem } from './routing/check-set.js';
import { TIERS } from './routing/set-item.js';

const BASELINE_MODEL = 'claude-3-5-sonnet-latest';
/** What a chat answer needs; the sidecar and the classifiers are not part of one. */
const VENDOR_BACKENDS = ['openai', 'anthropic', 'deepseek'];
const KEPT_BACKENDS = new Set(['local-chat', 'local-embeddings', ...VENDOR_BACKENDS]);
const out = (text = '') => process.stdout.write(`${text}\n`);

function liveConfig(origin: string, maxLocalWaitMs?: number): Config {
  const config = loadConfig({});
  const backends = Object.fromEntries(
    Object.entries(config.backends)
      .filter(([id]) => KEPT_BACKENDS.has(id))
      .map(([id, backend]) => [id, VENDOR_BACKENDS.includes(id) ? { ...backend, base_url: id === 'anthropic' ? origin : `${origin}/v1`, api_key: 'sk-oracle' } : backend]),
  );
  return {
    ...config,
    server: { ...config.server, host: '127.0.0.1', port: 0, log_level: 'silent' },
    paths: { ...config.paths, data_dir: mkdtempSync(join(tmpdir(), 'sluice-live-eval-')) },
    backends: backends as Config['backends'],
    routing: maxLocalWaitMs === undefined ? config.routing : { ...config.routing, max_local_wait_ms: maxLocalWaitMs },
  };
}

interface Served {
  status: number;
  headers: Headers;
  answer: string;
  ms: number;
}

/** The served answer as the item's check reads it: the text, or the first tool call as `{name, arguments}`. */
async function ask(origin: string, item: LoadedItem): Promise<Served> {
  const began = performance.now();
  const response = await fetch(`${origin}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...item.request, model: 'auto', stream: false }),
  });
  const body = (await response.json()) as { choices?: { message?: { content?: string | null; tool_calls?: { function: { name: string; arguments: string } }[] } }[] };
  const message = body.choices?.[0]?.message;
  const call = message?.tool_calls?.[0]?.function;
  let answer = message?.content ?? '';
  if (call) {
    let args: unknown = call.arguments;
    try {
      args = JSON.parse(call.arguments);
    } catch {
      // Arguments that are not JSON fail the check as they are.
    }
    answer = JSON.stringify({ name: call.name, arguments: args });
  }
  return { status: response.status, headers: response.headers, answer, ms: performance.now() - began };
}

function baselineCostUsd(config: Config, item: LoadedItem): number {
  return tokensCostUsd(config.models.find((model) => model.id === BASELINE_MODEL)!.price, oracleTokens(item));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { split: { type: 'string', default: 'all' }, 'per-tier': { type: 'string' }, concurrency: { type: 'string', default: '4' }, why: { type: 'boolean' }, 'max-local-wait-ms': { type: 'string' } } });
  const set = loadRoutingSet();
  if (set.problems.length > 0) throw new Error(`routing set is malformed: ${set.problems[0]}`);
  const perTier = values['per-tier'] ? Number(values['per-tier']) : Number.POSITIVE_INFINITY;
  const items = TIERS.flatMap((tier) => set.items.filter((item) => item.tier === tier && (values.split === 'all' || item.split === values.split)).slice(0, perTier));
  const concurrency = Math.max(1, Number(values.concurrency) || 4);

  const vendors = await startOracleVendors(set.items);
  const config = liveConfig(vendors.origin, values['max-local-wait-ms'] === undefined ? undefined : Number(values['max-local-wait-ms']));
  const logger = pino({ level: 'silent' });
  const store = await openStore({ dataDir: config.paths.data_dir, inferenceLog: { textMode: { kind: 'full' } } });
  const gateway = buildGateway(config, logger, createAdapters(config, logger), { inferenceLog: store.inferenceLog, store, embeddings: store.embeddings });
  await gateway.ready;
  const server = await gateway.listen(0, '127.0.0.1');
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  out(`# Live eval: ${items.length} items through the gateway at concurrency ${concurrency} (vendors: loopback oracles; routing.max_local_wait_ms ${config.routing.max_local_wait_ms})\n`);

  const served = new Map<string, Served>();
  let next = 0;
  const began = performance.now();
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      served.set(item.id, await ask(origin, item));
      if (served.size % 25 === 0) process.stderr.write(`${served.size}/${items.length} (${((performance.now() - began) / 1000).toFixed(0)} s)\n`);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
    await store.inferenceLog.flush();
    const { rows } = await store.database!.query<{ request_id: string; output: string | null; quality_score: number | null }>(
      `select request_id, output, quality_score from model_inferences where route = 'local' and quality_score is not null`,
    );
    const byRequest = new Map(items.map((item) => [served.get(item.id)?.headers.get('x-sluice-request-id') ?? '', item]));
    const scored = rows.flatMap((row) => {
      const item = byRequest.get(row.request_id);
      return item ? [{ item, score: Number(row.quality_score), passes: passesCheck(item.check, row.output ?? '') }] : [];
    });
    const outcomes: LiveOutcome[] = items.map((item) => {
      const answer = served.get(item.id)!;
      const header = (name: string) => answer.headers.get(name) ?? undefined;
      return {
        item,
        decided: (header('x-sluice-tier') ?? 'none') as Tier | 'none',
        route: header('x-sluice-route') ?? `http-${answer.status}`,
        passes: answer.status === 200 && passesCheck(item.check, answer.answer),
        isEscalated: Boolean(header('x-sluice-escalated-from')),
        costUsd: Number(header('x-sluice-cost-usd') ?? 0),
        baselineCostUsd: baselineCostUsd(config, item),
        latencyMs: answer.ms,
      };
    });
    for (const split of ['train', 'heldout'] as const) {
      const local = scored.filter((entry) => entry.item.split === split);
      out(liveTable(`${split}`, liveFigures(outcomes.filter((outcome) => outcome.item.split === split), false), rocAuc(local.map((entry) => entry.score), local.map((entry) => entry.passes)), local.length));
    }
    out(liveTable('all, weighted to the plan mix 60/20/15/5', liveFigures(outcomes, true), rocAuc(scored.map((entry) => entry.score), scored.map((entry) => entry.passes)), scored.length));
    if (values.why) {
      out('Failed checks:');
      for (const outcome of outcomes.filter((entry) => !entry.passes)) {
        out(`  ${outcome.item.id} (${outcome.item.tier} → ${outcome.decided}, ${outcome.route}): ${JSON.stringify(served.get(outcome.item.id)!.answer.slice(0, 160))}`);
      }
    }
    out(`Oracle calls: OpenAI-style ${vendors.calls.openai}, Anthropic ${vendors.calls.anthropic}; wall time ${((performance.now() - began) / 1000).toFixed(0)} s.`);
  } finally {
    await gateway.close();
    await store.close();
    await vendors.close();
  }
}

await main();
