/**
 * Collects the local chat model's answers to the labelled set, for the quality validator's
 * calibration (eval/run-quality-eval.ts, scripts/fit-quality-calibration.ts). Each item is sent
 * to an in-process gateway (buildGateway on the shipped config/sluice.yaml, no vendor keys, the
 * response cache off) as production sends it: `model: "auto"` with `x-sluice-route-hint: local`,
 * so the router, the policy and the llama.cpp adapter shape the local attempt. An item whose
 * routed chain has no local model (the router took it for a vendor-only tier) is sent again
 * naming the local model, and marked `route: "explicit"`.
 *
 *   node --import tsx eval/collect-local-answers.ts [--tiers simple,medium] [--concurrency 2] [--out eval/quality/local-answers.jsonl]
 *
 * Items already in the output file are kept and skipped, so an interrupted run resumes.
 */
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { Adapter } from '../adapters/spec/index.js';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { buildGateway, createAdapters } from '../src/gateway.js';
import { passesCheck } from './routing/answer-check.js';
import { loadRoutingSet, type LoadedItem } from './routing/check-set.js';
import type { SetTier } from './routing/set-item.js';

export const LOCAL_ANSWERS_FILE = 'eval/quality/local-answers.jsonl';
/** The chat backend whose answers are collected, and the embeddings the scorer may use. */
const KEPT_BACKENDS = new Set(['local-chat', 'local-embeddings']);
const ORDER: readonly SetTier[] = ['simple', 'medium', 'brand', 'high', 'creative'];

/** One line of the answers file. */
export interface LocalAnswer {
  id: string;
  split: 'train' | 'heldout';
  tier: SetTier;
  /** `routed`: model auto + route hint local; `explicit`: the local model named (no local candidate in the routed chain). */
  route: 'routed' | 'explicit';
  /** The tier the router decided (x-sluice-tier), when routed. */
  routed_tier?: string;
  model?: string;
  answer: string;
  finish_reason?: string;
  latency_ms: number;
  /** The gateway's own score (x-sluice-quality), for reference; the eval rescores. */
  gateway_quality?: number;
  passes: boolean;
  /** An HTTP failure, when there is no answer. */
  error?: string;
}

const out = (text: string) => process.stdout.write(`${text}\n`);

function gatewayConfig(): Config {
  const config = loadConfig({});
  return {
    ...config,
    server: { ...config.server, host: '127.0.0.1', port: 0, log_level: 'silent' },
    paths: { ...config.paths, data_dir: mkdtempSync(join(tmpdir(), 'sluice-collect-')) },
    // A paraphrase served from the cache is not the model's answer.
    cache: { ...config.cache, enabled: false },
  };
}

/** The local backends only: the sidecar and the classifiers are not part of a chat answer. */
function localAdapters(config: Config): Map<string, Adapter> {
  const kept: Config = { ...config, backends: Object.fromEntries(Object.entries(config.backends).filter(([id]) => KEPT_BACKENDS.has(id))) };
  return createAdapters(kept, pino({ level: 'silent' }));
}

interface Posted {
  status: number;
  body: { choices?: { message?: { content?: string | null }; finish_reason?: string }[]; model?: string; error?: { message?: string } };
  headers: Headers;
  ms: number;
}

async function post(origin: string, body: Record<string, unknown>, headers: Record<string, string>): Promise<Posted> {
  const began = performance.now();
  const response = await fetch(`${origin}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const parsed = (await response.json()) as Posted['body'];
  return { status: response.status, body: parsed, headers: response.headers, ms: Math.round(performance.now() - began) };
}

async function answerOf(origin: string, item: LoadedItem, localModel: string, isLocal: (model: string) => boolean): Promise<LocalAnswer> {
  const request = { ...item.request, model: 'auto' };
  let route: LocalAnswer['route'] = 'routed';
  let posted = await post(origin, request, { 'x-sluice-route-hint': 'local' });
  const servedBy = posted.headers.get('x-sluice-model') ?? posted.body.model ?? '';
  if (posted.status !== 200 || !isLocal(servedBy)) {
    route = 'explicit';
    posted = await post(origin, { ...request, model: localModel }, {});
  }
  const choice = posted.body.choices?.[0];
  const answer = choice?.message?.content ?? '';
  const quality = Number.parseFloat(posted.headers.get('x-sluice-quality') ?? '');
  return {
    id: item.id,
    split: item.split,
    tier: item.tier,
    route,
    ...(route === 'routed' && posted.headers.get('x-sluice-tier') ? { routed_tier: posted.headers.get('x-sluice-tier')! } : {}),
    model: posted.headers.get('x-sluice-model') ?? posted.body.model,
    answer,
    finish_reason: choice?.finish_reason,
    latency_ms: posted.ms,
    ...(Number.isFinite(quality) ? { gateway_quality: quality } : {}),
    passes: posted.status === 200 && passesCheck(item.check, answer),
    ...(posted.status === 200 ? {} : { error: `${posted.status} ${posted.body.error?.message ?? ''}`.trim() }),
  };
}

function alreadyCollected(file: string): Set<string> {
  if (!existsSync(file)) return new Set();
  return new Set(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => (JSON.parse(line) as LocalAnswer).id),
  );
}

/** Rewrites the file in set order (concurrent answers arrive out of order), so a rerun diffs cleanly. */
function sortFile(file: string, order: readonly string[]): void {
  const rank = new Map(order.map((id, index) => [id, index]));
  const rows = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .sort((a, b) => (rank.get((JSON.parse(a) as LocalAnswer).id) ?? 0) - (rank.get((JSON.parse(b) as LocalAnswer).id) ?? 0));
  writeFileSync(file, `${rows.join('\n')}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { tiers: { type: 'string', default: ORDER.join(',') }, concurrency: { type: 'string', default: '2' }, out: { type: 'string', default: LOCAL_ANSWERS_FILE } } });
  const tiers = new Set((values.tiers ?? '').split(',').map((tier) => tier.trim()));
  const concurrency = Math.max(1, Number.parseInt(values.concurrency ?? '2', 10) || 1);
  const file = values.out ?? LOCAL_ANSWERS_FILE;
  const set = loadRoutingSet();
  if (set.problems.length > 0) throw new Error(`routing set is malformed: ${set.problems[0]}`);
  const items = ORDER.filter((tier) => tiers.has(tier)).flatMap((tier) => set.items.filter((item) => item.tier === tier));
  const done = alreadyCollected(file);
  const todo = items.filter((item) => !done.has(item.id));

  const config = gatewayConfig();
  const localModel = config.models.find((model) => model.backend === 'local-chat')?.id;
  if (!localModel) throw new Error('config/sluice.yaml has no model on the local-chat backend');
  const localIds = new Set(config.models.filter((model) => KEPT_BACKENDS.has(model.backend)).map((model) => model.id));
  const gateway = buildGateway(config, pino({ level: 'silent' }), localAdapters(config));
  await gateway.ready;
  const server = await gateway.listen(0, '127.0.0.1');
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file.replace(/\.jsonl$/u, '.meta.json'),
    `${JSON.stringify({ model: localModel, weights: config.backends['local-chat']?.options?.model, collected_at: new Date().toISOString(), via: 'in-process gateway, model auto + x-sluice-route-hint: local', tiers: [...tiers], concurrency }, null, 2)}\n`,
  );
  out(`${todo.length} items to answer (${done.size} already in ${file}), concurrency ${concurrency}, model ${localModel}`);

  let next = 0;
  let finished = 0;
  const began = performance.now();
  const worker = async () => {
    while (next < todo.length) {
      const item = todo[next++]!;
      const row = await answerOf(origin, item, localModel, (model) => localIds.has(model));
      appendFileSync(file, `${JSON.stringify(row)}\n`);
      finished += 1;
      if (finished % 10 === 0 || finished === todo.length) {
        out(`${finished}/${todo.length} (${((performance.now() - began) / 1000).toFixed(0)} s) last ${row.id} ${row.passes ? 'pass' : 'fail'} ${row.latency_ms} ms`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await gateway.close();
  }
  sortFile(file, set.items.map((item) => item.id));
}

await main();
