/**
 * The response cache's cost, measured in one run:
 * 1. lookup (exact, then semantic: index search and near-miss guard) at 100k entries in one
 *    scope, in process — without the embedding, and with the real local embedding model;
 * 2. a hit end to end over HTTP (exact and paraphrase), against the same request sent straight to
 *    a loopback OpenAI-protocol server and through Sluice with the cache off.
 * Loopback only, bounded in count. `BENCH_CACHE_ENTRIES` changes the 100k.
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ChatCompletion } from '../adapters/spec/index.js';
import { cacheKeysOf } from '../src/cache/cache-keys.js';
import { MemoryCacheStore } from '../src/cache/memory-cache-store.js';
import { promptFacts } from '../src/cache/prompt-facts.js';
import { ResponseCache } from '../src/cache/response-cache.js';
import { withLocalEmbedder } from '../eval/local-embedder.js';

const ENTRIES = Number(process.env.BENCH_CACHE_ENTRIES ?? 100_000);
const DIMENSIONS = 384;
const CLUSTERS = 1_000;
const LOOKUPS = 2_000;
const HTTP_REQUESTS = 1_000;

const ANSWER: ChatCompletion = {
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 0,
  model: 'gpt-4o',
  choices: [{ index: 0, message: { role: 'assistant', content: 'A cached answer of a few words.', refusal: null }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 },
};

const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
const summary = (samples: number[]) => {
  samples.sort((a, b) => a - b);
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99) };
};

/** Prompt vectors as embeddings lie: around topic centres, not uniform on the sphere (HNSW's worst case, and unlike real prompts). */
function clusteredVectors(count: number, seed: number): Float32Array[] {
  let state = seed;
  const random = () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const centres = Array.from({ length: CLUSTERS }, () => Float32Array.from({ length: DIMENSIONS }, random));
  return Array.from({ length: count }, (_, index) => {
    const centre = centres[index % CLUSTERS];
    const vector = Float32Array.from(centre, (value) => value + 0.3 * random());
    const length = Math.hypot(...vector);
    return vector.map((value) => value / length);
  });
}

/** Fills one scope with ENTRIES answers, then times lookups of repeats and of new prompts, embedded by `embed` or not. */
async function lookupCost(embed: (text: string) => Promise<Float32Array>) {
  const vectors = clusteredVectors(ENTRIES + 2 * LOOKUPS, 7);
  const queued = new Map<string, Float32Array>();
  let embedsForReal = false;
  const cache = new ResponseCache({
    store: new MemoryCacheStore(ENTRIES + LOOKUPS),
    embed: async (text) => (embedsForReal ? embed(text) : queued.get(text)!),
    threshold: 0.9,
    wordThreshold: 0.8,
    ttlMs: 3_600_000,
  });
  const request = (question: string) => cacheKeysOf({ model: 'auto', messages: [{ role: 'user', content: question }] }, 'bench')!;
  const stored = (index: number) => `question ${index} about topic ${index % CLUSTERS}: what should I know`;
  const filling = performance.now();
  for (let index = 0; index < ENTRIES; index++) {
    const keys = request(stored(index));
    await cache.remember({ keys, tenantId: 'bench', facts: promptFacts(keys.question), vector: vectors[index] }, `entry-${index}`, ANSWER, 'gpt-4o');
  }
  const fillSeconds = (performance.now() - filling) / 1000;
  const signal = new AbortController().signal;
  const timed = async (question: string) => {
    const started = performance.now();
    const probe = await cache.lookup(request(question), 'bench', signal);
    return { ms: performance.now() - started, probe };
  };
  const exact: number[] = [];
  const novel: number[] = [];
  const embedded: number[] = [];
  for (let index = 0; index < LOOKUPS; index++) {
    const repeat = await timed(stored(index * 37));
    if (repeat.probe.hit?.kind !== 'exact') throw new Error(`entry-${index * 37} was not found`);
    exact.push(repeat.ms);
    const question = `novel question ${index} about topic ${index % CLUSTERS}`;
    queued.set(question, vectors[ENTRIES + index]);
    novel.push((await timed(question)).ms);
  }
  embedsForReal = true;
  for (let index = 0; index < LOOKUPS; index++) embedded.push((await timed(`another question ${index}: how do I configure topic ${index % CLUSTERS}?`)).ms);
  await cache.close();
  return { fillSeconds, exact: summary(exact), novel: summary(novel), embedded: summary(embedded) };
}

function spawnServer(script: string, args: string[], execArgv: string[]): Promise<{ child: ChildProcess; url: string; apiKey?: string }> {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), args, { execArgv });
  return new Promise((resolve, reject) => {
    child.once('message', (message: { url: string; apiKey?: string }) => resolve({ child, ...message }));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

/** One connection, one request at a time, after a warm-up; milliseconds per request. */
async function latency(url: string, body: object, headers: Record<string, string>) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const payload = JSON.stringify(body);
  const once = () =>
    new Promise<string | undefined>((resolve, reject) => {
      const request = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.headers['x-sluice-cache'] as string | undefined));
      });
      request.on('error', reject);
      request.end(payload);
    });
  for (let warm = 0; warm < 50; warm++) await once();
  const samples: number[] = [];
  let status: string | undefined;
  for (let index = 0; index < HTTP_REQUESTS; index++) {
    const started = performance.now();
    status = await once();
    samples.push(performance.now() - started);
  }
  agent.destroy();
  return { ...summary(samples), status };
}

async function endToEnd() {
  const upstream = await spawnServer('./bench-servers.ts', [], ['--import', 'tsx']);
  const plain = await spawnServer('./bench-gateway.mjs', [upstream.url, upstream.apiKey!], []);
  const cached = await spawnServer('./bench-gateway.mjs', [upstream.url, upstream.apiKey!, 'cache'], []);
  const ask = (content: string) => ({ model: 'gpt-4o', messages: [{ role: 'user', content }] });
  const question = ask('What is the capital city of Australia?');
  try {
    const direct = await latency(`${upstream.url}/chat/completions`, question, { authorization: `Bearer ${upstream.apiKey}` });
    const miss = await latency(`${plain.url}/chat/completions`, question, {});
    const exact = await latency(`${cached.url}/chat/completions`, question, {});
    const semantic = await latency(`${cached.url}/chat/completions`, ask("what's the capital city of australia"), {});
    if (exact.status !== 'exact' || semantic.status !== 'semantic') throw new Error(`expected exact and semantic hits, got ${exact.status} and ${semantic.status}`);
    return { direct, miss, exact, semantic };
  } finally {
    for (const server of [cached, plain, upstream]) server.child.kill('SIGINT');
  }
}

/** End to end first, while this process (the load generator) is small: the 100k-entry cache is a big heap to collect. */
async function printEndToEnd(ms: (value: number) => string) {
  const http = await endToEnd();
  console.log(`\nEnd to end over HTTP, one connection, ${HTTP_REQUESTS} requests each (loopback OpenAI-protocol mock as the vendor)`);
  console.log('| request | p50 ms | p99 ms | p99 ÷ direct |');
  console.log('| --- | --- | --- | --- |');
  for (const [name, figures] of [
    ['straight to the mock vendor', http.direct],
    ['through Sluice, cache off (vendor answers)', http.miss],
    ['through Sluice, exact hit', http.exact],
    ['through Sluice, paraphrase hit (embedding included)', http.semantic],
  ] as const) {
    console.log(`| ${name} | ${ms(figures.p50)} | ${ms(figures.p99)} | ${(figures.p99 / http.direct.p99).toFixed(2)}× |`);
  }
}

async function main() {
  const ms = (value: number) => value.toFixed(3);
  console.log(`response cache — ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, Node ${process.version}`);
  // `--lookup-only`: the in-process lookup alone, which needs no build (the HTTP part runs dist/).
  if (!process.argv.includes('--lookup-only')) await printEndToEnd(ms);

  const lookups = await withLocalEmbedder(async (embedder) => lookupCost(async (text) => (await embedder.embed([text]))[0]));
  console.log(`\nLookup at ${ENTRIES.toLocaleString('en')} entries in one scope (filled in ${lookups.fillSeconds.toFixed(1)} s), ${LOOKUPS} lookups each`);
  console.log('| lookup | p50 ms | p99 ms |');
  console.log('| --- | --- | --- |');
  console.log(`| exact repeat | ${ms(lookups.exact.p50)} | ${ms(lookups.exact.p99)} |`);
  console.log(`| new prompt, embedding excluded (exact miss, index search, guard on up to 4 neighbours) | ${ms(lookups.novel.p50)} | ${ms(lookups.novel.p99)} |`);
  console.log(`| new prompt, embedding included (all-MiniLM-L6-v2, local, one prompt per call) | ${ms(lookups.embedded.p50)} | ${ms(lookups.embedded.p99)} |`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
