/**
 * Local embeddings throughput: all-MiniLM-L6-v2 (ONNX) through Sluice — HTTP, the official
 * OpenAI client, the onnx adapter's micro-batching — against the same model file and
 * tokenizer.json run by onnxruntime from Python in one process (load-tests/bench-embeddings-baseline.py),
 * with the same thread count, measured in one run on one machine. Prints a markdown table
 * with the ratios, both sides' peak RSS, and how long the gateway's event loop stalled while it
 * embedded (the model runs on a worker thread, so a stall there delays every other request).
 *
 *   node --import tsx load-tests/bench-embeddings.ts   (BENCH_TEXTS=512, BENCH_THREADS=cores, BENCH_ROUNDS=3, BENCH_PYTHON)
 *
 * The two sides take turns, never running together, so neither steals the other's cores; rounds
 * alternate and the table gives medians, because these machines are shared. The gateway runs in
 * a child process of its own; the load generator shares the machine with it, as a client on the
 * same host would.
 */
import { fork, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';

const MODELS_DIR = process.env.SLUICE_MODELS_DIR ?? 'models';
const MODEL_DIR = join(MODELS_DIR, 'embeddings', 'all-MiniLM-L6-v2');
/** Any interpreter with onnxruntime and tokenizers; the sidecar's venv has both (requirements-dev.txt). */
const PYTHON = process.env.BENCH_PYTHON ?? 'python-sidecar/.venv/bin/python';
const TEXT_COUNT = Number(process.env.BENCH_TEXTS ?? 512);
const THREADS = Number(process.env.BENCH_THREADS ?? os.availableParallelism());
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MODEL = 'all-minilm-l6-v2';

type ServeRequest = 'rss' | 'loop-reset' | 'loop-read';
interface LoopDelay { maxMs: number; p99Ms: number }
interface ServeMessage { url?: string; rss?: { peakMb: number; nowMb: number }; loopReset?: true; loop?: LoopDelay }

/** Child-process half: the gateway with the local embedding backend, reporting over IPC. */
async function serve(): Promise<void> {
  const { pino } = await import('pino');
  const { parseConfig } = await import('../src/config/load.js');
  const { buildGateway } = await import('../src/gateway.js');
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
    paths: { data_dir: mkdtempSync(join(os.tmpdir(), 'sluice-bench-')), models_dir: MODELS_DIR },
    backends: { local: { type: 'onnx', requires_key: false, options: { model_dir: 'embeddings/all-MiniLM-L6-v2', threads: THREADS } } },
    models: [{ id: MODEL, backend: 'local', capabilities: ['embed'] }],
  });
  const gateway = buildGateway(config, pino({ level: 'silent' }));
  await gateway.ready;
  const server = await gateway.listen(0, '127.0.0.1');
  const { port } = server.address() as { port: number };
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  process.on('message', (request: ServeRequest) => {
    const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
    if (request === 'loop-reset') {
      loopDelay.reset();
      process.send!({ loopReset: true } satisfies ServeMessage);
    } else if (request === 'loop-read') {
      process.send!({ loop: { maxMs: loopDelay.max / 1e6, p99Ms: loopDelay.percentile(99) / 1e6 } } satisfies ServeMessage);
    } else {
      process.send!({ rss: { peakMb: mb(process.resourceUsage().maxRSS * 1024), nowMb: mb(process.memoryUsage().rss) } } satisfies ServeMessage);
    }
  });
  // The parent going away (done, or failed half-way) ends the gateway with it.
  process.on('disconnect', () => process.exit(0));
  process.send!({ url: `http://127.0.0.1:${port}/v1` } satisfies ServeMessage);
}

/** Deterministic English-like sentences of 6 to 40 words. */
function makeTexts(count: number): string[] {
  const words = (
    'the a of to and in that it is was for on are with as his they be at one have this from by hot word but what some ' +
    'we can out other were all there when up use your how said an each she which do their time if will way about many ' +
    'then them write would like so these her long make thing see him two has look more day could go come did number ' +
    'sound no most people my over know water than call first who may down side been now find head stand own page ' +
    'should country found answer school grow study still learn plant cover food sun four between state keep eye never'
  ).split(' ');
  let seed = 0x5eed;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () => {
    const length = 6 + Math.floor(random() * 35);
    const sentence = Array.from({ length }, () => words[Math.floor(random() * words.length)]).join(' ');
    return sentence[0].toUpperCase() + sentence.slice(1) + '.';
  });
}

interface Measured { embeddingsPerSecond: number; p50Ms: number; promptTokens: number; loop?: LoopDelay }

/** `concurrency` clients, each sending the next `batchSize` texts until none are left. */
async function drive(client: OpenAI, texts: string[], batchSize: number, concurrency: number): Promise<Measured> {
  const requests: (string | string[])[] = [];
  for (let start = 0; start < texts.length; start += batchSize) {
    requests.push(batchSize === 1 ? texts[start] : texts.slice(start, start + batchSize));
  }
  const latencies: number[] = [];
  let next = 0;
  let promptTokens = 0;
  const runClient = async () => {
    while (next < requests.length) {
      const input = requests[next++];
      const started = performance.now();
      const answer = await client.embeddings.create({ model: MODEL, input });
      latencies.push(performance.now() - started);
      promptTokens += answer.usage.prompt_tokens;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, runClient));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { embeddingsPerSecond: texts.length / seconds, p50Ms: latencies[Math.floor(latencies.length / 2)], promptTokens };
}

interface PythonResult { batch: number; embeddings_per_second: number; p50_ms: number }

/** The Python baseline as a long-lived child: one batch size in, one measurement out. */
async function startBaseline(texts: string[]) {
  const textsPath = join(mkdtempSync(join(os.tmpdir(), 'sluice-bench-')), 'texts.json');
  writeFileSync(textsPath, JSON.stringify(texts));
  const script = fileURLToPath(new URL('./bench-embeddings-baseline.py', import.meta.url));
  const child = spawn(PYTHON, [script, MODEL_DIR, String(THREADS), textsPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async () => {
    const line = await lines.next();
    if (line.done) throw new Error('the Python baseline exited early');
    return JSON.parse(line.value);
  };
  const about = (await nextLine()) as { onnxruntime: string; python: string };
  return {
    about,
    async measure(batch: number): Promise<PythonResult> {
      child.stdin.write(`${batch}\n`);
      return nextLine();
    },
    async finish(): Promise<{ max_rss_mb: number; first_vector: number[] }> {
      child.stdin.end();
      return nextLine();
    },
  };
}

/** The gateway as a child process, and the client that drives it. */
async function startSluice(firstText: string) {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: ['--import', 'tsx'] });
  const nextMessage = () =>
    new Promise<ServeMessage>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the gateway exited with ${code}`));
      child.once('exit', onExit);
      child.once('message', (message) => {
        child.off('exit', onExit);
        resolve(message as ServeMessage);
      });
    });
  const ask = (request: ServeRequest) => {
    const answer = nextMessage();
    child.send(request);
    return answer;
  };
  const { url } = await nextMessage();
  const client = new OpenAI({ baseURL: url, apiKey: 'sk-bench', maxRetries: 0 });
  return {
    client,
    /** One drive, with the gateway's event-loop delay over it. */
    async drive(texts: string[], batchSize: number, concurrency: number): Promise<Measured> {
      await ask('loop-reset');
      const measured = await drive(client, texts, batchSize, concurrency);
      const { loop } = await ask('loop-read');
      return { ...measured, loop };
    },
    async finish() {
      const [first] = (await client.embeddings.create({ model: MODEL, input: firstText, encoding_format: 'float' })).data;
      const { rss } = await ask('rss');
      child.kill();
      return { rss: rss!, firstVector: first.embedding };
    },
  };
}

const MODES = [
  { name: 'batch 1, 1 client', batch: 1, clients: 1 },
  { name: 'batch 1, 16 concurrent clients', batch: 1, clients: 16 },
  { name: 'batch 32, 1 client', batch: 32, clients: 1 },
  { name: 'batch 32, 4 concurrent clients', batch: 32, clients: 4 },
] as const;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  if (!existsSync(join(MODEL_DIR, 'model.onnx'))) throw new Error(`${MODEL_DIR}/model.onnx is missing: run make setup`);
  const texts = makeTexts(TEXT_COUNT);
  const loadBefore = os.loadavg()[0];
  const python = await startBaseline(texts);
  const sluice = await startSluice(texts[0]);
  await drive(sluice.client, texts.slice(0, 64), 32, 1); // warm-up

  // Rounds alternate the two sides so that load from elsewhere on the machine hits both alike;
  // the table reports medians over rounds.
  const pythonRuns = new Map<number, PythonResult[]>();
  const sluiceRuns = new Map<string, Measured[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const batch of [1, 32]) {
      pythonRuns.set(batch, [...(pythonRuns.get(batch) ?? []), await python.measure(batch)]);
      for (const mode of MODES.filter((entry) => entry.batch === batch)) {
        sluiceRuns.set(mode.name, [...(sluiceRuns.get(mode.name) ?? []), await sluice.drive(texts, mode.batch, mode.clients)]);
      }
    }
  }
  const pythonEnd = await python.finish();
  const sluiceEnd = await sluice.finish();

  const drift = Math.max(...sluiceEnd.firstVector.map((value, index) => Math.abs(value - pythonEnd.first_vector[index])));
  const nodeOrt = JSON.parse(readFileSync('node_modules/onnxruntime-node/package.json', 'utf8')).version as string;
  const meanTokens = sluiceRuns.get(MODES[2].name)![0].promptTokens / texts.length;
  console.log(
    `local embeddings — ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ` +
      `Node ${process.version} + onnxruntime-node ${nodeOrt} vs Python ${python.about.python} + onnxruntime ${python.about.onnxruntime}; ` +
      `${THREADS} intra-op threads each, no spinning; all-MiniLM-L6-v2 model.onnx; ${texts.length} texts of ${meanTokens.toFixed(1)} tokens on average; ` +
      `median of ${ROUNDS} alternating rounds; load average ${loadBefore.toFixed(1)} before, ${os.loadavg()[0].toFixed(1)} after`,
  );
  console.log(
    '| mode | Sluice emb/s | Sluice p50 ms/request | Python emb/s (same batch) | Python p50 ms/call | ratio Sluice ÷ Python | Sluice event-loop delay max / p99 ms |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const mode of MODES) {
    const through = sluiceRuns.get(mode.name)!;
    const direct = pythonRuns.get(mode.batch)!;
    const sluiceRate = median(through.map((run) => run.embeddingsPerSecond));
    const pythonRate = median(direct.map((run) => run.embeddings_per_second));
    console.log(
      `| ${mode.name} | ${sluiceRate.toFixed(1)} | ${median(through.map((run) => run.p50Ms)).toFixed(1)} | ${pythonRate.toFixed(1)} | ` +
        `${median(direct.map((run) => run.p50_ms)).toFixed(1)} | ${(sluiceRate / pythonRate).toFixed(2)}× | ` +
        `${median(through.map((run) => run.loop!.maxMs)).toFixed(1)} / ${median(through.map((run) => run.loop!.p99Ms)).toFixed(1)} |`,
    );
  }
  console.log(
    `\npeak RSS: Sluice gateway ${sluiceEnd.rss.peakMb} MB (${sluiceEnd.rss.nowMb} MB at the end), Python baseline ${pythonEnd.max_rss_mb.toFixed(0)} MB. ` +
      `Same model, same answer: max |Sluice − Python| over the first text's vector = ${drift.toExponential(1)}.`,
  );
}

if (process.argv[2] === '--serve') {
  await serve();
} else {
  await main();
}
