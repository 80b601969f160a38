/**
 * CLIP through POST /v1/embeddings, end to end: the gateway runs the real Python sidecar, which
 * serves a tiny, randomly initialised CLIP built here (python-sidecar/tests/tiny_clip.py: the real
 * towers' signatures, 32-d) — no CLIP weights can be had on these machines. Texts and images
 * (data URLs, bare base64) come back as unit vectors of one space, in input order; a second model
 * entry, clip-vit-b-32, has no weights and must say how to fetch them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { buildGateway, type Gateway } from '../../src/gateway.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai.js';
import { VENV_PYTHON } from './tiny-classifier.js';

const TINY_CLIP_BUILDER = 'python-sidecar/tests/tiny_clip.py';
const DIMENSIONS = 32;

/** Images drawn by Pillow: each name → base64 of its bytes. `copy` is `left`'s pixels again, as BMP. */
function drawnImages(): Record<'left' | 'copy' | 'other' | 'truncated', string> {
  const script = [
    'import base64, io, json',
    'from PIL import Image',
    'def encoded(image, image_format):',
    '    buffer = io.BytesIO(); image.save(buffer, format=image_format); return buffer.getvalue()',
    'left = Image.new("RGB", (320, 240), (230, 40, 40)); left.paste((20, 20, 220), (0, 0, 160, 240))',
    'other = Image.new("RGB", (240, 320), (250, 250, 250)); other.paste((10, 160, 10), (0, 200, 240, 320))',
    'png = encoded(left, "PNG")',
    'images = {"left": png, "copy": encoded(left, "BMP"), "other": encoded(other, "JPEG"), "truncated": png[:60]}',
    'print(json.dumps({name: base64.b64encode(data).decode() for name, data in images.items()}))',
  ].join('\n');
  return JSON.parse(execFileSync(VENV_PYTHON, ['-c', script], { encoding: 'utf8' })) as Record<'left' | 'copy' | 'other' | 'truncated', string>;
}

let gateway: Gateway;
let origin: string;
let vendor: FakeOpenAI;
let images: ReturnType<typeof drawnImages>;

beforeAll(async () => {
  for (const path of [VENV_PYTHON, TINY_CLIP_BUILDER]) if (!existsSync(path)) throw new Error(`${path} is missing: run make setup`);
  const modelsDir = mkdtempSync(join(tmpdir(), 'sluice-clip-'));
  execFileSync(VENV_PYTHON, [TINY_CLIP_BUILDER, join(modelsDir, 'clip', 'tiny-clip'), '--dimensions', String(DIMENSIONS)]);
  images = drawnImages();
  vendor = await startFakeOpenAI();
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
    paths: { models_dir: modelsDir, data_dir: mkdtempSync(join(tmpdir(), 'sluice-clip-data-')) },
    // Remote images may be fetched, through the SSRF checks of src/pipeline/safe-fetch.ts.
    images: { allow_remote_urls: true },
    backends: {
      openai: { type: 'openai', base_url: vendor.url, api_key: vendor.apiKey },
      // No Whisper under this models directory: nothing is preloaded, CLIP loads on its first call.
      sidecar: { type: 'sidecar', requires_key: false, options: { preload: false, threads: 1 } },
    },
    models: [
      { id: 'tiny-clip', backend: 'sidecar', capabilities: ['embed', 'vision'] },
      { id: 'clip-vit-b-32', backend: 'sidecar', capabilities: ['embed', 'vision'] },
      { id: 'text-embedding-3-small', backend: 'openai', capabilities: ['embed'] },
    ],
  });
  gateway = buildGateway(config, pino({ level: 'silent' }));
  const server = await gateway.listen(0, '127.0.0.1');
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  await gateway.ready;
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await vendor?.close();
});

interface EmbeddingsBody {
  object: string;
  model: string;
  data: { object: string; index: number; embedding: number[] | string }[];
  usage: { prompt_tokens: number; total_tokens: number };
}

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

function embed(body: Record<string, unknown>): Promise<Response> {
  return fetch(`${origin}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function vectorsOf(input: unknown[], model = 'tiny-clip'): Promise<number[][]> {
  const response = await embed({ model, input });
  expect(response.status, await response.clone().text()).toBe(200);
  const body = (await response.json()) as EmbeddingsBody;
  return body.data.map((item) => item.embedding as number[]);
}

/** onnxruntime may round the last bit differently for a batch of one than inside a larger batch. */
function expectSameVector(actual: readonly number[] | undefined, expected: readonly number[] | undefined): void {
  expect(actual).toHaveLength(expected!.length);
  expect(Math.max(...actual!.map((value, index) => Math.abs(value - expected![index]!)))).toBeLessThan(1e-6);
}

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((sum, value, index) => sum + value * b[index]!, 0);
const dataUrl = (base64: string, type = 'image/png') => `data:${type};base64,${base64}`;

describe('POST /v1/embeddings with a CLIP model', () => {
  it('embeds mixed texts and images in input order: one dimension, unit length, deterministic, locally', async () => {
    const input = ['a photo of a cat', { image: dataUrl(images.left) }, { text: 'blue square' }, { image: images.other }];
    const response = await embed({ model: 'tiny-clip', input });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-sluice-route')).toBe('local');
    expect(response.headers.get('x-sluice-model')).toBe('tiny-clip');
    const body = (await response.json()) as EmbeddingsBody;
    expect(body.object).toBe('list');
    expect(body.model).toBe('tiny-clip');
    expect(body.data.map((item) => [item.object, item.index])).toEqual(input.map((_, index) => ['embedding', index]));
    const vectors = body.data.map((item) => item.embedding as number[]);
    for (const vector of vectors) {
      expect(vector).toHaveLength(DIMENSIONS);
      expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    }
    // Text tokens counted with CLIP's start and end tokens: 2 + 5, 2 + 2.
    expect(body.usage).toEqual({ prompt_tokens: 11, total_tokens: 11 });
    // Each input's vector is the one it gets alone, and the same on a second call.
    for (const [index, item] of input.entries()) expectSameVector((await vectorsOf([item]))[0], vectors[index]);
    expect(await vectorsOf(input)).toEqual(vectors);
    expect(dot(vectors[1]!, vectors[3]!)).toBeLessThan(0.99);
    expect(dot(vectors[0]!, vectors[2]!)).toBeLessThan(0.99);
  }, 60_000);

  it('gives an image and its own copy (other bytes, same pixels) cosine 1', async () => {
    const [left, copy, other] = await vectorsOf([{ image: dataUrl(images.left) }, { image: dataUrl(images.copy, 'image/bmp') }, { image: images.other }]);
    expect(dot(left!, copy!)).toBeCloseTo(1, 6);
    expect(dot(left!, other!)).toBeLessThan(0.99);
  });

  it('gives a data URL and bare base64 of one image the same vector', async () => {
    const [asDataUrl, bare] = await vectorsOf([{ image: dataUrl(images.left) }, { image: images.left }]);
    expectSameVector(bare, asDataUrl);
  });

  it('takes plain strings too, and base64 encoding of the same floats', async () => {
    const [floats] = await vectorsOf(['red circle']);
    const response = await embed({ model: 'tiny-clip', input: 'red circle', encoding_format: 'base64' });
    const body = (await response.json()) as EmbeddingsBody;
    const bytes = Buffer.from(body.data[0]!.embedding as string, 'base64');
    expect(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4))).toEqual(floats);
  });

  it.each([
    ['base64 of text, not an image', () => ({ image: Buffer.from('no pixels here').toString('base64') }), 'invalid_image'],
    ['a PNG cut short (its signature passes, Pillow cannot decode it)', () => ({ image: dataUrl(images.truncated) }), 'invalid_image'],
    ['a string that is not base64', () => ({ image: 'data:image/png;base64,@@@' }), 'invalid_image'],
  ])('refuses %s with a 400 naming the input', async (_, item, code) => {
    const response = await embed({ model: 'tiny-clip', input: ['a cat', item()] });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as ErrorBody;
    expect(error.type).toBe('invalid_request_error');
    expect(error.param).toBe('input[1].image');
    expect(error.code).toBe(code);
  });

  it.each([
    ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data', /link-local/],
    ['this gateway, on loopback', () => `${origin}/v1/models`, /loopback/],
    ['a private address', () => 'http://10.0.0.1/cat.png', /private/],
  ])('fetches remote images only past the SSRF checks: refuses %s', async (_, url, why) => {
    const response = await embed({ model: 'tiny-clip', input: ['a cat', { image: url() }] });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as ErrorBody;
    expect(error).toMatchObject({ param: 'input[1].image', code: 'invalid_image_url' });
    expect(error.message).toMatch(why);
  });

  it.each([
    ['an object with both text and image', [{ text: 'a', image: 'b' }]],
    ['an object of another kind', [{ audio: 'x' }]],
    ['an empty image', [{ image: '' }]],
    ['a token array among objects', [[1, 2], { text: 'a' }]],
  ])('refuses %s as invalid input', async (_, input) => {
    const response = await embed({ model: 'tiny-clip', input });
    expect(response.status).toBe(400);
    expect(((await response.json()) as ErrorBody).error.param).toMatch(/^input/);
  });

  it('refuses objects for a model that embeds text only, naming the multimodal ones', async () => {
    const before = vendor.requests.length;
    const response = await embed({ model: 'text-embedding-3-small', input: [{ text: 'a cat' }] });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as ErrorBody;
    expect(error.param).toBe('input');
    expect(error.message).toContain("'text-embedding-3-small' embeds strings and token ids only");
    expect(error.message).toContain('tiny-clip, clip-vit-b-32');
    expect(vendor.requests.length).toBe(before);
  });

  it('answers 503 model_weights_missing for a CLIP model without weights, naming the files and the pull command', async () => {
    const response = await embed({ model: 'clip-vit-b-32', input: [{ text: 'a cat' }] });
    expect(response.status).toBe(503);
    const { error } = (await response.json()) as ErrorBody;
    expect(error.code).toBe('model_weights_missing');
    expect(error.message).toMatch(/clip\/clip-vit-b-32\/onnx\/text_model\.onnx/);
    expect(error.message).toContain('sluice models pull Xenova/clip-vit-base-patch32 onnx/text_model.onnx onnx/vision_model.onnx tokenizer.json');
    expect(error.message).toContain('--dest clip/clip-vit-b-32');
    // The sidecar lives on: the model with weights still answers.
    expect(await vectorsOf(['a cat'])).toHaveLength(1);
  });

  it('lists both CLIP models in GET /v1/models as local', async () => {
    const response = await fetch(`${origin}/v1/models`);
    const body = (await response.json()) as { data: { id: string; owned_by: string }[] };
    for (const id of ['tiny-clip', 'clip-vit-b-32']) expect(body.data.find((model) => model.id === id)?.owned_by).toBe('local');
  });
});
