/**
 * Local classifiers and OCR through Sluice: moderation and sentiment items/s, OCR time per image.
 * Each is measured through the gateway's HTTP API and, as the baseline in the same run, by
 * calling the same adapter directly (no HTTP, no JSON, no multipart): the ratio is what the
 * gateway costs on top of the model.
 *
 *   node --import tsx load-tests/bench-classifiers.ts   (BENCH_ITEMS=512, BENCH_IMAGES=8, BENCH_ROUNDS=3)
 *
 * Each cell is the median of BENCH_ROUNDS rounds, the baseline and HTTP runs alternating, since
 * these machines are shared.
 *
 * No toxicity or SST-2 weights are obtainable on these machines, so the classifiers here are
 * stand-ins of known cost, built at the start: "minilm-head" is all-MiniLM-L6-v2's real encoder
 * (6 layers, 384 wide) with a randomly initialised classification head on its [CLS] state, the
 * same signature as a Hugging Face export (input_ids, attention_mask → logits); DistilBERT SST-2
 * (6 layers, 768 wide) costs about 3–4× as much per token, toxic-bert (12 × 768) about 8×.
 * "tiny" is the tests' bag-of-words model, almost free: its figures are the pipeline's ceiling.
 * OCR is the real RapidOCR in the sidecar, on the tests' three-line 860×300 image.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import type { Adapter } from '../adapters/spec/index.js';
import { parseConfig } from '../src/config/load.js';
import { buildGateway } from '../src/gateway.js';
import { buildTinyClassifier, TINY_SENTIMENT, TINY_TOXICITY, TOKENIZER_DIR, VENV_PYTHON } from '../test/integration/tiny-classifier.js';

const ITEMS = Number(process.env.BENCH_ITEMS ?? 512);
const IMAGES = Number(process.env.BENCH_IMAGES ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MODELS_DIR = resolve(process.env.SLUICE_MODELS_DIR ?? 'models');

/** MiniLM's encoder + Gather([CLS]) → MatMul → Add: a classifier of MiniLM's cost. */
const WITH_HEAD = `
import json, sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto
source, target, labels = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
model = onnx.load(source)
graph = model.graph
hidden = 384
rng = np.random.default_rng(12)
graph.initializer.extend([
    numpy_helper.from_array(np.array(0, dtype=np.int64), "cls_index"),
    numpy_helper.from_array((rng.standard_normal((hidden, len(labels))) * 0.05).astype(np.float32), "head_weight"),
    numpy_helper.from_array(np.zeros(len(labels), dtype=np.float32), "head_bias"),
])
graph.node.extend([
    helper.make_node("Gather", ["last_hidden_state", "cls_index"], ["cls_state"], axis=1),
    helper.make_node("MatMul", ["cls_state", "head_weight"], ["head_product"]),
    helper.make_node("Add", ["head_product", "head_bias"], ["logits"]),
])
del graph.output[:]
graph.output.append(helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(labels)]))
onnx.save(model, target)
`;

function buildMiniLmClassifier(directory: string, labels: string[], problemType?: string): void {
  mkdirSync(directory, { recursive: true });
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(TOKENIZER_DIR, file), join(directory, file));
  execFileSync(VENV_PYTHON, ['-c', WITH_HEAD, join(TOKENIZER_DIR, 'model.onnx'), join(directory, 'model.onnx'), JSON.stringify(labels)]);
  const config = { max_position_embeddings: 512, id2label: Object.fromEntries(labels.map((label, index) => [String(index), label])), ...(problemType ? { problem_type: problemType } : {}) };
  execFileSync(VENV_PYTHON, ['-c', 'import json, sys; json.dump(json.loads(sys.argv[2]), open(sys.argv[1], "w"))', join(directory, 'config.json'), JSON.stringify(config)]);
}

/** Short review- and chat-like texts of mixed length (5–40 words). */
function texts(count: number): string[] {
  const words = 'the service was quick and friendly but the room felt small and the breakfast could have been better overall we would come back again'.split(' ');
  return Array.from({ length: count }, (_, index) => words.slice(0, 5 + ((index * 7) % 36)).concat(String(index)).join(' '));
}

function rendered(): Buffer {
  const script = [
    'import io, sys',
    'from PIL import Image, ImageDraw, ImageFont',
    'font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 34)',
    'image = Image.new("RGB", (860, 300), "white")',
    'draw = ImageDraw.Draw(image)',
    'for row, line in enumerate(["Invoice number 4821", "Deliver to Harbour Street", "Total due: 312 dollars"]): draw.text((40, 40 + row * 70), line, fill=(20, 20, 20), font=font)',
    'buffer = io.BytesIO(); image.save(buffer, format="PNG"); sys.stdout.buffer.write(buffer.getvalue())',
  ].join('\n');
  return execFileSync(VENV_PYTHON, ['-c', script]);
}

/** `concurrency` workers take requests of `perRequest` texts until every text is done; items/s. */
async function itemsPerSecond(all: string[], perRequest: number, concurrency: number, send: (inputs: string[]) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < all.length) {
        const inputs = all.slice(next, next + perRequest);
        next += perRequest;
        await send(inputs);
      }
    }),
  );
  return all.length / ((performance.now() - started) / 1000);
}

const root = mkdtempSync(join(os.tmpdir(), 'sluice-bench-classifiers-'));
for (const path of [VENV_PYTHON, join(TOKENIZER_DIR, 'model.onnx'), join(MODELS_DIR, 'whisper/tiny.en/model.bin')]) {
  if (!existsSync(path)) throw new Error(`${path} is missing: run make setup`);
}
buildTinyClassifier(join(root, 'tiny-toxicity'), TINY_TOXICITY);
buildTinyClassifier(join(root, 'tiny-sentiment'), TINY_SENTIMENT);
buildMiniLmClassifier(join(root, 'minilm-toxicity'), ['toxic', 'severe_toxic', 'obscene', 'threat', 'insult', 'identity_hate'], 'multi_label_classification');
buildMiniLmClassifier(join(root, 'minilm-sentiment'), ['NEGATIVE', 'POSITIVE']);

const classifier = (task: string, dir: string) => ({ type: 'onnx-classifier', requires_key: false, options: { task, model_dir: join(root, dir) } });
const config = parseConfig({
  server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
  paths: { models_dir: MODELS_DIR, data_dir: join(root, 'data') },
  backends: {
    'tiny-toxicity': classifier('moderation', 'tiny-toxicity'),
    'tiny-sentiment': classifier('sentiment', 'tiny-sentiment'),
    'minilm-toxicity': classifier('moderation', 'minilm-toxicity'),
    'minilm-sentiment': classifier('sentiment', 'minilm-sentiment'),
    sidecar: { type: 'sidecar', requires_key: false, options: { whisper_model: 'whisper/tiny.en' } },
  },
  models: [
    { id: 'tiny-toxicity', backend: 'tiny-toxicity', capabilities: ['moderate'] },
    { id: 'tiny-sentiment', backend: 'tiny-sentiment', capabilities: ['classify'] },
    { id: 'minilm-head-toxicity', backend: 'minilm-toxicity', capabilities: ['moderate'] },
    { id: 'minilm-head-sentiment', backend: 'minilm-sentiment', capabilities: ['classify'] },
    { id: 'rapidocr', backend: 'sidecar', capabilities: ['ocr'] },
  ],
});
const gateway = buildGateway(config, pino({ level: 'silent' }));
const server = await gateway.listen(0, '127.0.0.1');
const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
await gateway.ready;

const call = () => ({ requestId: 'bench', signal: new AbortController().signal, timeoutMs: 600_000 });
const postJson = async (path: string, body: unknown) => {
  const response = await fetch(`${origin}/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
  await response.json();
};

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const all = texts(ITEMS);
const rows: string[] = [];
for (const [model, backend, path, method] of [
  ['tiny-toxicity', 'tiny-toxicity', '/moderations', 'moderate'],
  ['tiny-sentiment', 'tiny-sentiment', '/classifications/sentiment', 'classify'],
  ['minilm-head-toxicity', 'minilm-toxicity', '/moderations', 'moderate'],
  ['minilm-head-sentiment', 'minilm-sentiment', '/classifications/sentiment', 'classify'],
] as const) {
  const adapter = gateway.adapters.get(backend) as Adapter;
  const direct = (inputs: string[]) => adapter[method]!({ model, inputs }, call()).then(() => undefined);
  const viaHttp = (inputs: string[]) => postJson(path, { model, input: inputs });
  await itemsPerSecond(all.slice(0, 64), 32, 1, viaHttp); // warm-up
  const rounds = { baseline: [] as number[], batched: [] as number[], single: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    rounds.baseline.push(await itemsPerSecond(all, 32, 2, direct));
    rounds.batched.push(await itemsPerSecond(all, 32, 2, viaHttp));
    rounds.single.push(await itemsPerSecond(all, 1, 16, viaHttp));
  }
  const [baseline, batched, single] = [median(rounds.baseline), median(rounds.batched), median(rounds.single)];
  rows.push(`| ${model} (${path}) | ${baseline.toFixed(0)} | ${batched.toFixed(0)} (${(batched / baseline).toFixed(2)}×) | ${single.toFixed(0)} (${(single / baseline).toFixed(2)}×) |`);
}

const image = rendered();
const sidecar = gateway.adapters.get('sidecar') as Adapter;
const ocrMs: { direct: number[]; http: number[] } = { direct: [], http: [] };
await sidecar.ocr!({ model: 'rapidocr', image: { data: image, filename: 'scan.png', contentType: 'image/png' } }, call()); // warm-up
for (let index = 0; index < IMAGES; index++) {
  let started = performance.now();
  await sidecar.ocr!({ model: 'rapidocr', image: { data: image, filename: 'scan.png', contentType: 'image/png' } }, call());
  ocrMs.direct.push(performance.now() - started);
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(image)], { type: 'image/png' }), 'scan.png');
  started = performance.now();
  const response = await fetch(`${origin}/v1/ocr`, { method: 'POST', body: form });
  if (!response.ok) throw new Error(`/ocr: HTTP ${response.status}`);
  await response.json();
  ocrMs.http.push(performance.now() - started);
}

await gateway.close();

const cpus = os.cpus();
console.log(`machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${os.platform()} ${os.release()}, Node ${process.version}, load average ${os.loadavg()[0].toFixed(1)}; ${ITEMS} texts of 6–41 words, median of ${ROUNDS} rounds`);
console.log('');
console.log('| model (endpoint) | adapter directly, 32 per call × 2 in flight, items/s (baseline) | HTTP, 32 per request × 2 in flight | HTTP, 1 per request × 16 in flight |');
console.log('| --- | --- | --- | --- |');
for (const row of rows) console.log(row);
console.log('');
console.log(`OCR (RapidOCR in the sidecar, 860×300 PNG, 3 lines), median of ${IMAGES}: adapter directly ${median(ocrMs.direct).toFixed(0)} ms, POST /v1/ocr ${median(ocrMs.http).toFixed(0)} ms (${(median(ocrMs.http) / median(ocrMs.direct)).toFixed(2)}×)`);
