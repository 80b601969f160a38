/**
 * The local embedding model, for real: all-MiniLM-L6-v2 converted to ONNX, run by the onnx
 * adapter, first directly and then through the gateway with the official OpenAI client.
 * The weights come from `make setup`; without them this fails (it never skips). A missing
 * model.onnx is converted here from the safetensors weights.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100kBase from 'js-tiktoken/ranks/cl100k_base';
import OpenAI from 'openai';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnnxEmbeddingAdapter } from '../../adapters/onnx/onnx-embedding-adapter.js';
import { WorkerEncoder } from '../../adapters/onnx/worker-encoder.js';
import type { Adapter, AdapterSettings, CallOptions } from '../../adapters/spec/index.js';
import { parseConfig } from '../../src/config/load.js';
import { buildGateway, type Gateway } from '../../src/gateway.js';
import { CRASH } from '../unit/adapters/onnx/stand-in-triggers.js';

const MODELS_DIR = process.env.SLUICE_MODELS_DIR ?? 'models';
const MODEL_DIR = join(MODELS_DIR, 'embeddings', 'all-MiniLM-L6-v2');
const VENV_PYTHON = 'python-sidecar/.venv/bin/python';
const MAX_LENGTH = 256; // sentence_bert_config.json max_seq_length
const MODEL = 'all-minilm-l6-v2';

/**
 * Hand-written paraphrases: each pair says one thing in different words, and every pair is on
 * its own topic. Several share a word with a distractor below that means something else
 * ("bank", "password", "Chicago", "orchestra", "battery", "flooded"), so word overlap alone
 * would not find the partner.
 */
const PARAPHRASES: [string, string][] = [
  ['How do I reset my password?', 'I forgot my login credentials and need to change them.'],
  ['The flight to Chicago was cancelled because of the snowstorm.', 'Heavy snow grounded our plane to Chicago.'],
  ['The bank approved my mortgage application.', 'The lender accepted my request for a home loan.'],
  ['She plays the violin in the city orchestra.', 'She is a violinist with the local symphony.'],
  ['My laptop battery drains very quickly.', 'The battery on my notebook computer runs out fast.'],
  ['The restaurant was closed for renovations.', 'The diner shut its doors while it was being remodelled.'],
  ['Please send the quarterly report to Maria by Friday.', 'Maria needs the report for this quarter before the end of the week.'],
  ['The child fell asleep during the movie.', 'The kid dozed off while the film was playing.'],
  ['Our team won the championship last night.', "We took the title in yesterday evening's final."],
  ['The price of petrol has gone up again.', 'Gasoline is more expensive once more.'],
  ['He is allergic to peanuts.', 'Eating peanuts gives him an allergic reaction.'],
  ['The meeting has been moved to Thursday afternoon.', 'We rescheduled the meeting for Thursday after lunch.'],
  ['The doctor prescribed antibiotics for the infection.', 'The physician gave her medication to treat the bacterial infection.'],
  ["I'd like to cancel my subscription.", 'Please stop my membership and the recurring payments.'],
  ['The cat is sleeping on the windowsill.', 'A kitten is napping by the window.'],
  ['Water boils at one hundred degrees Celsius at sea level.', 'At sea level, water reaches its boiling point at 100 °C.'],
  ['The company laid off two hundred workers.', 'The firm cut 200 jobs.'],
  ['It is going to rain tomorrow.', "Tomorrow's forecast calls for showers."],
  ['The museum is free on the first Sunday of every month.', 'Admission to the gallery costs nothing on the first Sunday of each month.'],
  ['She is learning to speak Japanese.', 'She is studying the Japanese language.'],
  ['The package was delivered to the wrong address.', "My parcel ended up at someone else's house."],
  ['Turn left at the second traffic light.', 'At the second set of signals, make a left turn.'],
  ['The server crashed because it ran out of memory.', 'The machine went down after exhausting its RAM.'],
  ['He apologised for being late to the interview.', 'He said sorry for arriving late to his job interview.'],
  ['The hotel room had a beautiful view of the ocean.', 'From our hotel room we could see the sea, and it was lovely.'],
  ['Can you recommend a good book about history?', 'What is a great history book I should read?'],
  ['The river flooded the village after days of heavy rain.', 'Days of downpour made the river overflow into the town.'],
  ['The students are preparing for their final exams.', 'The pupils are studying for their end-of-year tests.'],
  ['My phone screen cracked when I dropped it.', 'I dropped my mobile and the display broke.'],
  ['The train leaves the station at half past seven.', 'The train departs at 7:30.'],
  ['The painting was sold at auction for a record price.', 'The artwork fetched a record sum when it was auctioned.'],
  ['Drink plenty of water when you exercise in the heat.', 'Stay well hydrated if you work out in hot weather.'],
];

const DISTRACTORS = [
  'We had a picnic on the grassy bank of the river.',
  'The password for the guest wifi is printed on the router.',
  'Chicago is known for its deep-dish pizza.',
  'The orchestra pit was flooded with light.',
  'Batteries should be recycled, not thrown in the trash.',
  'Photosynthesis converts sunlight into chemical energy.',
  'The senator proposed a new tax on imported steel.',
  'Penguins cannot fly but they are excellent swimmers.',
  'The recipe calls for two cups of flour and a pinch of salt.',
  'Mount Everest is the highest mountain above sea level.',
  'The chess tournament ended in a draw.',
  'Knitting a scarf takes me about a week.',
  'The spacecraft entered orbit around Mars.',
  'He repainted the fence a bright shade of green.',
  'The lecture on medieval architecture was fascinating.',
  'Our neighbours adopted a golden retriever puppy.',
];

/** Texts whose tokenisation is easy to get wrong: accents, CJK, emoji, punctuation, length. */
const TRICKY = [
  'Café naïve résumé — façade',
  '北京是中国的首都。',
  'emoji 😀 and 👍🏽!',
  "don't stop-believing, U.S.A. e-mail@example.com $3.50",
  'Straße İstanbul ΣΙΓΜΑ ﬁ ligature ½',
  'supercalifragilisticexpialidocious antidisestablishmentarianism',
  // Past max_length: the model sees 256 tokens, and usage counts 256.
  Array.from({ length: 80 }, (_, index) => `clause ${index} of a very long document`).join(', '),
];

const call = (overrides: Partial<CallOptions> = {}): CallOptions => ({ requestId: 'test', signal: new AbortController().signal, timeoutMs: 30_000, ...overrides });

function adapterSettings(options: Record<string, unknown> = { model_dir: 'embeddings/all-MiniLM-L6-v2' }): AdapterSettings {
  return { id: 'local-embeddings', type: 'onnx', timeoutMs: 30_000, options, paths: { modelsDir: MODELS_DIR, dataDir: tmpdir() } };
}

/** Token ids from the Rust `tokenizers` library on the same tokenizer.json: the reference. */
function referenceTokenIds(texts: string[]): number[][] {
  const script = [
    'import json, sys',
    'from tokenizers import Tokenizer',
    'tokenizer = Tokenizer.from_file(sys.argv[1])',
    'tokenizer.no_padding()',
    'tokenizer.enable_truncation(int(sys.argv[2]))',
    'print(json.dumps([encoding.ids for encoding in tokenizer.encode_batch(json.load(sys.stdin))]))',
  ].join('\n');
  return JSON.parse(execFileSync(VENV_PYTHON, ['-c', script, join(MODEL_DIR, 'tokenizer.json'), String(MAX_LENGTH)], { input: JSON.stringify(texts) }).toString());
}

const dot = (a: number[], b: number[]) => a.reduce((sum, value, index) => sum + value * b[index], 0);
const norm = (vector: number[]) => Math.sqrt(dot(vector, vector));
const maxAbsDifference = (a: number[], b: number[]) => Math.max(...a.map((value, index) => Math.abs(value - b[index])));

beforeAll(() => {
  for (const file of ['model.safetensors', 'config.json', 'tokenizer.json']) {
    if (!existsSync(join(MODEL_DIR, file))) throw new Error(`${MODEL_DIR}/${file} is missing: run make setup`);
  }
  if (!existsSync(VENV_PYTHON)) throw new Error(`${VENV_PYTHON} is missing: run make setup`);
  if (!existsSync(join(MODEL_DIR, 'model.onnx'))) {
    execFileSync(VENV_PYTHON, ['scripts/convert-embeddings-onnx.py', MODEL_DIR], { stdio: 'inherit' });
  }
});

describe('onnx adapter', () => {
  let adapter: Adapter;
  beforeAll(async () => {
    adapter = createOnnxEmbeddingAdapter(adapterSettings());
    await adapter.ready!();
  });
  afterAll(() => adapter.close());

  it('is a local embedding backend and nothing else', () => {
    expect(adapter.location).toBe('local');
    expect([...adapter.capabilities]).toEqual(['embed']);
    expect(adapter.chat).toBeUndefined();
  });

  it('returns one 384-d unit vector per input, and counts [CLS] and [SEP]', async () => {
    const result = await adapter.embed!({ model: MODEL, input: { kind: 'text', values: ['Hello World', 'A man is eating food.'] } }, call());
    expect(result.vectors.map((vector) => vector.length)).toEqual([384, 384]);
    for (const vector of result.vectors) expect(norm(vector)).toBeCloseTo(1, 5);
    expect(result.usage).toEqual({ prompt_tokens: 4 + 8, total_tokens: 4 + 8 });
  });

  it('refuses token ids, which reach it decoded to text by the gateway, with invalid-request', async () => {
    await expect(adapter.embed!({ model: MODEL, input: { kind: 'tokens', values: [[101, 7592, 102]] } }, call())).rejects.toMatchObject({
      kind: 'invalid-request',
      detail: { param: 'input' },
    });
  });

  it('counts decoded text by the client’s token counts, not its own split, for the limits', async () => {
    // 9,000 WordPiece tokens, sent by the client as 8,000 ids: within OpenAI's 8,192.
    const text = 'word '.repeat(9_000);
    const decoded = { model: MODEL, input: { kind: 'text' as const, values: [text] } };
    await expect(adapter.embed!(decoded, call())).rejects.toMatchObject({ kind: 'invalid-request' });
    const result = await adapter.embed!({ ...decoded, clientTokenCounts: [8_000] }, call());
    expect(result.usage.prompt_tokens).toBe(MAX_LENGTH);
    await expect(adapter.embed!({ ...decoded, clientTokenCounts: [8_193] }, call())).rejects.toThrow('Input 0 is too long: 8193 token ids');
  });

  it('drops a call aborted before its batch runs, with client-closed', async () => {
    const controller = new AbortController();
    const pending = adapter.embed!({ model: MODEL, input: { kind: 'text', values: ['never embedded'] } }, call({ signal: controller.signal }));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ kind: 'client-closed' });
  });

  it('fails to become ready, saying what to run, when the model is not there', async () => {
    const missing = createOnnxEmbeddingAdapter(adapterSettings({ model_dir: 'embeddings/no-such-model' }));
    await expect(missing.ready!()).rejects.toThrow(/model\.onnx not found: run make setup/);
    await expect(missing.embed!({ model: MODEL, input: { kind: 'text', values: ['x'] } }, call())).rejects.toMatchObject({ kind: 'upstream-unavailable' });
    await missing.close();
  });

  it('refuses bad options when it is created, naming the option', () => {
    expect(() => createOnnxEmbeddingAdapter(adapterSettings({ model_dir: 'embeddings/all-MiniLM-L6-v2', pooling: 'max' }))).toThrow(
      'backends.local-embeddings.options.pooling',
    );
  });

  it('keeps the event loop turning while it embeds 256 inputs: the model runs on a worker thread', async () => {
    const texts = Array.from({ length: 256 }, (_, index) => `sentence ${index}: ${'the quick brown fox jumps over the lazy dog '.repeat(1 + (index % 6))}`);
    const delay = monitorEventLoopDelay({ resolution: 1 });
    let ticks = 0;
    let longestGapMs = 0;
    let lastTick = performance.now();
    let onTick = () => {};
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGapMs = Math.max(longestGapMs, now - lastTick);
      lastTick = now;
      ticks++;
      onTick();
    }, 5);
    delay.enable();
    try {
      const result = await adapter.embed!({ model: MODEL, input: { kind: 'text', values: texts } }, call());
      expect(result.vectors).toHaveLength(256);
      // One more tick, so that a stall just before the answer is measured too.
      await new Promise<void>((resolve) => (onTick = resolve));
    } finally {
      clearInterval(ticker);
      delay.disable();
    }
    // On the gateway's thread each run of 32 held the loop for 100–200 ms on 2 cores.
    expect(delay.max / 1e6).toBeLessThan(50);
    expect(longestGapMs).toBeLessThan(50);
    expect(ticks).toBeGreaterThan(10);
  });

  it('fails the batch a crashed worker held with upstream-unavailable, and gives the next batch a fresh worker', async () => {
    const encoder = await WorkerEncoder.start({
      modelPath: join(MODEL_DIR, 'model.onnx'),
      settings: { threads: 1, spinThreads: false, pooling: 'mean', normalize: true },
      padId: 0,
      entry: new URL('../unit/adapters/onnx/crashing-onnx-worker.ts', import.meta.url),
    });
    try {
      const helloWorld = [101, 7592, 2088, 102];
      const [before] = await encoder.encode([helloWorld]);
      await expect(encoder.encode([[CRASH, 102]])).rejects.toMatchObject({ kind: 'upstream-unavailable', message: expect.stringContaining('crashed mid-batch') });
      const [after] = await encoder.encode([helloWorld]);
      expect([...after]).toEqual([...before]);
    } finally {
      await encoder.close();
    }
  });

  it('answers nothing after close()', async () => {
    const closing = createOnnxEmbeddingAdapter(adapterSettings());
    await closing.ready!();
    await closing.close();
    await expect(closing.embed!({ model: MODEL, input: { kind: 'text', values: ['x'] } }, call())).rejects.toMatchObject({ kind: 'upstream-unavailable' });
  });
});

describe('local embeddings through the gateway (OpenAI client)', () => {
  let gateway: Gateway;
  let client: OpenAI;

  beforeAll(async () => {
    const config = parseConfig({
      server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
      paths: { data_dir: mkdtempSync(join(tmpdir(), 'sluice-embeddings-')), models_dir: MODELS_DIR },
      backends: { 'local-embeddings': { type: 'onnx', requires_key: false, options: { model_dir: 'embeddings/all-MiniLM-L6-v2' } } },
      models: [{ id: MODEL, backend: 'local-embeddings', capabilities: ['embed'] }],
    });
    gateway = buildGateway(config, pino({ level: 'silent' }));
    await gateway.ready;
    const server = await gateway.listen(0, '127.0.0.1');
    const { port } = server.address() as { port: number };
    client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'sk-local', maxRetries: 0 });
  });
  afterAll(() => gateway.close());

  const embedFloats = async (input: string | string[] | number[] | number[][], extra: { dimensions?: number } = {}) =>
    (await client.embeddings.create({ model: MODEL, input, encoding_format: 'float', ...extra })).data.map((item) => item.embedding);

  it('puts every paraphrase nearer its partner than any other sentence, with a margin', async () => {
    const sentences = [...PARAPHRASES.flat(), ...DISTRACTORS];
    const vectors = await embedFloats(sentences);
    const margins = PARAPHRASES.map(([first, second], pair) => {
      const [a, b] = [2 * pair, 2 * pair + 1];
      const together = dot(vectors[a], vectors[b]);
      const nearestOther = Math.max(
        ...sentences.flatMap((_, other) => (other === a || other === b ? [] : [dot(vectors[a], vectors[other]), dot(vectors[b], vectors[other])])),
      );
      return { first, second, together, nearestOther, margin: together - nearestOther };
    });
    for (const pair of margins) expect(pair.margin, `"${pair.first}" / "${pair.second}"`).toBeGreaterThan(0.05);
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    expect(mean(margins.map((pair) => pair.together))).toBeGreaterThan(0.6);
    expect(mean(margins.map((pair) => pair.margin))).toBeGreaterThan(0.25);
  });

  it('answers 384-d unit vectors, route local, cost 0, model named', async () => {
    const { data, response } = await client.embeddings.create({ model: MODEL, input: ['A local answer.', 'Another one.'], encoding_format: 'float' }).withResponse();
    expect(data.model).toBe(MODEL);
    expect(data.data.map((item) => item.index)).toEqual([0, 1]);
    for (const item of data.data) {
      expect(item.embedding).toHaveLength(384);
      expect(norm(item.embedding)).toBeCloseTo(1, 5);
    }
    expect(response.headers.get('x-sluice-route')).toBe('local');
    expect(response.headers.get('x-sluice-model')).toBe(MODEL);
    expect(Number(response.headers.get('x-sluice-cost-usd'))).toBe(0);
  });

  it('sends base64 that decodes to exactly the float answer', async () => {
    const input = ['Base64 carries float32 bytes.', 'So must the float array.'];
    const floats = await embedFloats(input);
    const { data } = await client.embeddings.create({ model: MODEL, input, encoding_format: 'base64' });
    const decoded = data.map((item) => {
      const bytes = Buffer.from(item.embedding as unknown as string, 'base64');
      return [...new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)];
    });
    expect(decoded).toEqual(floats);
  });

  it("counts usage.prompt_tokens as the reference tokenizer does, after truncation at 256", async () => {
    const texts = [...TRICKY, 'Hello World'];
    const reference = referenceTokenIds(texts);
    expect(Math.max(...reference.map((ids) => ids.length))).toBe(MAX_LENGTH);
    const answer = await client.embeddings.create({ model: MODEL, input: texts, encoding_format: 'float' });
    expect(answer.usage).toEqual({ prompt_tokens: reference.flat().length, total_tokens: reference.flat().length });
  });

  it('takes token arrays as OpenAI tokens (cl100k_base, as LangChain sends them): the vector and usage of the text they spell', async () => {
    const cl100k = new Tiktoken(cl100kBase);
    const texts = [...TRICKY, PARAPHRASES[0][0]];
    const ids = texts.map((text) => cl100k.encode(text));
    const fromText = await client.embeddings.create({ model: MODEL, input: texts, encoding_format: 'float' });
    const fromIds = await client.embeddings.create({ model: MODEL, input: ids, encoding_format: 'float' });
    texts.forEach((text, index) => {
      const [a, b] = [fromText.data[index].embedding, fromIds.data[index].embedding];
      expect(dot(a, b) / (norm(a) * norm(b)), text).toBeGreaterThan(0.999);
    });
    // Usage counts what the local model saw: the same tokens as for the text.
    expect(fromIds.usage).toEqual(fromText.usage);
    // One flat token array is one input.
    const [single] = await embedFloats(ids.at(-1)!);
    expect(maxAbsDifference(single, fromText.data.at(-1)!.embedding)).toBeLessThan(1e-5);
  });

  it('rejects a token id cl100k_base lacks with 400 on input, and the local model is never called', async () => {
    const adapter = gateway.adapters.get('local-embeddings')!;
    const embed = adapter.embed!;
    let calls = 0;
    adapter.embed = (request, options) => (calls++, embed.call(adapter, request, options));
    try {
      const failure = await client.embeddings.create({ model: MODEL, input: [[9906, 4435], [9906, 100_261]] }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(OpenAI.BadRequestError);
      expect((failure as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('input');
      expect((failure as Error).message).toContain('Invalid token id 100261 at token 1 of input 1');
      expect(calls).toBe(0);
    } finally {
      adapter.embed = embed;
    }
  });

  it('embeds 256 strings in one request exactly as it embeds each alone', async () => {
    const words = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa'.split(' ');
    const strings = Array.from({ length: 256 }, (_, index) =>
      `item ${index}: ${Array.from({ length: 1 + ((index * 37) % 24) }, (_, word) => words[(index + word * 7) % words.length]).join(' ')}`,
    );
    const together = await embedFloats(strings);
    expect(together).toHaveLength(256);
    let worst = 0;
    for (const [index, text] of strings.entries()) {
      const [alone] = await embedFloats(text);
      worst = Math.max(worst, maxAbsDifference(alone, together[index]));
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it('shortens to dimensions: 128 and renormalises', async () => {
    const [full] = await embedFloats('Shorter vectors for a cheaper index.');
    const [short] = await embedFloats('Shorter vectors for a cheaper index.', { dimensions: 128 });
    expect(short).toHaveLength(128);
    expect(norm(short)).toBeCloseTo(1, 5);
    const head = full.slice(0, 128);
    expect(maxAbsDifference(short, head.map((value) => value / norm(head)))).toBeLessThan(1e-6);
  });
});
