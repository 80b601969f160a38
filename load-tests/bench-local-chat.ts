/**
 * Local chat generation speed: node-llama-cpp's own generation loop vs the same GGUF served by
 * Sluice (HTTP, SSE streaming, official openai client), measured in one run on one machine.
 *
 *   node --import tsx load-tests/bench-local-chat.ts [chat/model.gguf …]
 *
 * Each model runs in its own child process (a clean RSS figure), in two parts:
 * - one stream at a time: Sluice with `parallel: 1` (one context, every thread) against
 *   `LlamaChat.generateResponse` on one context with the same threads, context size and
 *   sampling (temperature 0, no repeat penalty, max_tokens 128). Sides alternate per prompt.
 * - two streams at once: Sluice's default pool (`parallel: 2`, one context per slot) against
 *   node-llama-cpp's own way to serve two, one context with two sequences.
 * "tok/s" is completion tokens ÷ wall time from request to last token (prompt included);
 * "decode" leaves out the time to the first token. Prints a markdown table with the ratios.
 */
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LlamaChat, type LlamaContextSequence } from 'node-llama-cpp';
import OpenAI from 'openai';
import { pino } from 'pino';
import { acquireLlama, releaseLlama } from '../adapters/llama-cpp/shared-llama.js';
import { parseConfig } from '../src/config/load.js';
import { buildGateway, type Gateway } from '../src/gateway.js';

const MODELS_DIR = process.env.SLUICE_MODELS_DIR ?? 'models';
const DEFAULT_MODELS = ['chat/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf', 'chat/smollm2-135m-instruct-q4_1.gguf'];
const MAX_TOKENS = 128;
const CONTEXT_SIZE = 4096;
const THREADS = os.availableParallelism();
const PROMPTS = [
  'Explain in detail how a bicycle works.',
  'Write a story about a robot who learns to paint.',
  'Describe the water cycle step by step.',
];

interface Sample {
  tokens: number;
  totalMs: number;
  firstTokenMs: number;
}
interface Figures {
  tokensPerSecond: number;
  decodeTokensPerSecond: number;
  firstTokenMs: number;
  tokens: number;
}
interface ModelResult {
  model: string;
  rssMiB: number;
  single: { direct: Figures; sluice: Figures };
  pair: { direct: Figures; sluice: Figures };
}

function summarise(samples: Sample[]): Figures {
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return {
    tokensPerSecond: median(samples.map((sample) => (sample.tokens / sample.totalMs) * 1000)),
    decodeTokensPerSecond: median(samples.map((sample) => ((sample.tokens - 1) / (sample.totalMs - sample.firstTokenMs)) * 1000)),
    firstTokenMs: median(samples.map((sample) => sample.firstTokenMs)),
    tokens: samples.reduce((sum, sample) => sum + sample.tokens, 0),
  };
}

/** Two generations at once count as one sample: their tokens over the wall time of both. */
function combine(pair: Sample[]): Sample {
  return { tokens: pair[0].tokens + pair[1].tokens, totalMs: Math.max(...pair.map((s) => s.totalMs)), firstTokenMs: Math.max(...pair.map((s) => s.firstTokenMs)) };
}

async function directGeneration(sequence: LlamaContextSequence, prompt: string): Promise<Sample> {
  const chat = new LlamaChat({ contextSequence: sequence, autoDisposeSequence: false });
  const before = sequence.tokenMeter.usedOutputTokens;
  const started = performance.now();
  let firstTokenMs = 0;
  await chat.generateResponse([{ type: 'user', text: prompt }, { type: 'model', response: [] }], {
    maxTokens: MAX_TOKENS,
    temperature: 0,
    repeatPenalty: false,
    onTextChunk: () => (firstTokenMs ||= performance.now() - started),
  });
  const totalMs = performance.now() - started;
  const tokens = sequence.tokenMeter.usedOutputTokens - before;
  chat.dispose({ disposeSequence: false });
  await sequence.clearHistory();
  return { tokens, totalMs, firstTokenMs };
}

async function sluiceGeneration(client: OpenAI, prompt: string): Promise<Sample> {
  const started = performance.now();
  let firstTokenMs = 0;
  let tokens = 0;
  const stream = await client.chat.completions.create({
    model: 'local',
    messages: [{ role: 'user', content: prompt }],
    max_tokens: MAX_TOKENS,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta.content) firstTokenMs ||= performance.now() - started;
    if (chunk.usage) tokens = chunk.usage.completion_tokens;
  }
  return { tokens, totalMs: performance.now() - started, firstTokenMs };
}

async function startSluice(modelFile: string, parallel: number): Promise<{ gateway: Gateway; client: OpenAI }> {
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
    paths: { data_dir: mkdtempSync(join(os.tmpdir(), 'sluice-bench-chat-')), models_dir: MODELS_DIR },
    backends: { local: { type: 'llama-cpp', requires_key: false, options: { model: modelFile, parallel, context_size: CONTEXT_SIZE, threads: THREADS } } },
    models: [{ id: 'local', backend: 'local', capabilities: ['chat', 'stream'] }],
  });
  const gateway = buildGateway(config, pino({ level: 'silent' }));
  await gateway.ready;
  const server = await gateway.listen(0, '127.0.0.1');
  const client = new OpenAI({ baseURL: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`, apiKey: 'sk-bench', maxRetries: 0, timeout: 600_000 });
  return { gateway, client };
}

/** The child: one model, both parts, one JSON line on stdout. */
async function benchModel(modelFile: string): Promise<ModelResult> {
  const llama = await acquireLlama(undefined); // shared with the adapter, so closing Sluice keeps it alive

  const single = await startSluice(modelFile, 1);
  await sluiceGeneration(single.client, 'Hello'); // warm-up: weights paged in
  const rssMiB = process.memoryUsage().rss / 2 ** 20;
  const model = await llama.loadModel({ modelPath: join(MODELS_DIR, modelFile), gpuLayers: 0 });
  const alone = await model.createContext({ contextSize: CONTEXT_SIZE, sequences: 1, threads: THREADS });
  const sequence = alone.getSequence();
  await directGeneration(sequence, 'Hello');

  const singles = { direct: [] as Sample[], sluice: [] as Sample[] };
  for (const [index, prompt] of PROMPTS.entries()) {
    const runDirect = async () => singles.direct.push(await directGeneration(sequence, prompt));
    const runSluice = async () => singles.sluice.push(await sluiceGeneration(single.client, prompt));
    for (const run of index % 2 === 0 ? [runDirect, runSluice] : [runSluice, runDirect]) await run();
  }
  await single.gateway.close();
  await alone.dispose();

  const pooled = await startSluice(modelFile, 2);
  await sluiceGeneration(pooled.client, 'Hello');
  const batched = await model.createContext({ contextSize: CONTEXT_SIZE, sequences: 2, threads: THREADS });
  const [first, second] = [batched.getSequence(), batched.getSequence()];
  const pairs = { direct: [] as Sample[], sluice: [] as Sample[] };
  for (const [index, prompt] of PROMPTS.entries()) {
    const other = PROMPTS[(index + 1) % PROMPTS.length];
    pairs.direct.push(combine(await Promise.all([directGeneration(first, prompt), directGeneration(second, other)])));
    pairs.sluice.push(combine(await Promise.all([sluiceGeneration(pooled.client, prompt), sluiceGeneration(pooled.client, other)])));
  }
  await pooled.gateway.close();
  await batched.dispose();
  await model.dispose();
  await releaseLlama(undefined);
  return {
    model: modelFile,
    rssMiB,
    single: { direct: summarise(singles.direct), sluice: summarise(singles.sluice) },
    pair: { direct: summarise(pairs.direct), sluice: summarise(pairs.sluice) },
  };
}

function runChild(modelFile: string): Promise<ModelResult> {
  const child = fork(fileURLToPath(import.meta.url), ['--child', modelFile], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  let output = '';
  child.stdout!.on('data', (data: Buffer) => (output += data.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const line = output.trim().split('\n').at(-1) ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as ModelResult);
      else reject(new Error(`benchmark of ${modelFile} exited with ${code}`));
    });
  });
}

function row(model: string, part: string, figures: { direct: Figures; sluice: Figures }): string {
  const { direct, sluice } = figures;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  return `| ${model} | ${part} | ${direct.tokensPerSecond.toFixed(1)} | ${sluice.tokensPerSecond.toFixed(1)} | ${ratio(sluice.tokensPerSecond, direct.tokensPerSecond)} | ${direct.decodeTokensPerSecond.toFixed(1)} / ${sluice.decodeTokensPerSecond.toFixed(1)} (${ratio(sluice.decodeTokensPerSecond, direct.decodeTokensPerSecond)}) | ${Math.round(direct.firstTokenMs)} / ${Math.round(sluice.firstTokenMs)} | ${direct.tokens} / ${sluice.tokens} |`;
}

async function main() {
  if (process.argv[2] === '--child') {
    console.log(JSON.stringify(await benchModel(process.argv[3])));
    return;
  }
  const models = process.argv.slice(2).length > 0 ? process.argv.slice(2) : DEFAULT_MODELS;
  const cpus = os.cpus();
  const loadBefore = os.loadavg()[0];
  const results: ModelResult[] = [];
  for (const model of models) results.push(await runChild(model));
  console.log(`\nMachine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, node ${process.version}`);
  console.log(`Load average (1 min) before / after: ${loadBefore.toFixed(2)} / ${os.loadavg()[0].toFixed(2)} (the machine is shared)`);
  console.log(`Settings: threads ${THREADS}, context ${CONTEXT_SIZE}, temperature 0, max_tokens ${MAX_TOKENS}, ${PROMPTS.length} prompts; medians\n`);
  console.log('| model | part | node-llama-cpp tok/s | Sluice tok/s | ratio | decode tok/s (direct / Sluice) | first token ms (direct / Sluice) | tokens (direct / Sluice) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const result of results) {
    const name = result.model.replace(/^chat\//, '').replace(/\.gguf$/, '');
    console.log(row(name, '1 stream', result.single));
    console.log(row(name, '2 streams (aggregate)', result.pair));
  }
  console.log('');
  for (const result of results) console.log(`RSS with ${result.model} loaded in Sluice (after a warm-up generation): ${result.rssMiB.toFixed(0)} MiB`);
}

await main();
