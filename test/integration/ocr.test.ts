/**
 * POST /v1/ocr end to end: the gateway runs the real Python sidecar (RapidOCR, its bundled
 * PaddleOCR weights), and reads back text drawn into PNG and JPEG images by Pillow in DejaVu Sans,
 * uploaded as multipart, as a data URL and as bare base64. OCR output can differ by a character
 * between machines, so the text is held to a word error rate, as the sidecar's own tests do.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { buildGateway, type Gateway } from '../../src/gateway.js';
import { wordErrorRate } from '../support/word-error-rate.js';

const MODELS_DIR = resolve(process.env.SLUICE_MODELS_DIR ?? 'models');
const VENV_PYTHON = 'python-sidecar/.venv/bin/python';
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const LINES = ['Invoice number 4821', 'Deliver to Harbour Street', 'Total due: 312 dollars'];
const MAX_WORD_ERROR_RATE = 0.25; // 3 of the 12 words

/** The lines drawn black on white, one per row, as the sidecar's test_ocr.py draws them. */
function rendered(format: 'PNG' | 'JPEG'): Buffer {
  const script = [
    'import io, json, sys',
    'from PIL import Image, ImageDraw, ImageFont',
    'lines = json.loads(sys.argv[2])',
    'font = ImageFont.truetype(sys.argv[3], 34)',
    'image = Image.new("RGB", (860, 90 + 70 * len(lines)), "white")',
    'draw = ImageDraw.Draw(image)',
    'for row, line in enumerate(lines): draw.text((40, 40 + row * 70), line, fill=(20, 20, 20), font=font)',
    'buffer = io.BytesIO()',
    'image.save(buffer, format=sys.argv[1], quality=90)',
    'sys.stdout.buffer.write(buffer.getvalue())',
  ].join('\n');
  return execFileSync(VENV_PYTHON, ['-c', script, format, JSON.stringify(LINES), FONT]);
}

let gateway: Gateway;
let baseURL: string;
let png: Buffer;
let jpeg: Buffer;

beforeAll(async () => {
  for (const path of [VENV_PYTHON, FONT, join(MODELS_DIR, 'whisper/tiny.en/model.bin')]) {
    if (!existsSync(path)) throw new Error(`${path} is missing: run make setup`);
  }
  png = rendered('PNG');
  jpeg = rendered('JPEG');
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
    paths: { models_dir: MODELS_DIR, data_dir: mkdtempSync(join(tmpdir(), 'sluice-ocr-')) },
    backends: { sidecar: { type: 'sidecar', requires_key: false, options: { whisper_model: 'whisper/tiny.en' } } },
    models: [{ id: 'rapidocr', backend: 'sidecar', capabilities: ['ocr'] }],
  });
  gateway = buildGateway(config, pino({ level: 'silent' }));
  const server = await gateway.listen(0, '127.0.0.1');
  baseURL = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
  await gateway.ready;
}, 180_000);

afterAll(() => gateway?.close());

interface OcrBody {
  text: string;
  blocks: { text: string; box: number[][]; score: number }[];
}

function expectTheLines(body: OcrBody): void {
  const rate = wordErrorRate(LINES.join(' '), body.text);
  expect(rate, `read ${JSON.stringify(body.text)}`).toBeLessThanOrEqual(MAX_WORD_ERROR_RATE);
  expect(body.text).toBe(body.blocks.map((block) => block.text).join('\n'));
  expect(body.blocks).toHaveLength(LINES.length);
  for (const block of body.blocks) {
    expect(Object.keys(block).sort()).toEqual(['box', 'score', 'text']);
    expect(block.score).toBeGreaterThan(0);
    expect(block.score).toBeLessThanOrEqual(1);
    expect(block.box).toHaveLength(4);
    for (const point of block.box) expect(point).toHaveLength(2);
  }
  const tops = body.blocks.map((block) => Math.min(...block.box.map(([, y]) => y)));
  expect(tops).toEqual([...tops].sort((a, b) => a - b));
}

function postJson(body: unknown): Promise<Response> {
  return fetch(`${baseURL}/ocr`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

function postFile(image: Buffer, filename: string, type: string): Promise<Response> {
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(image)], { type }), filename);
  return fetch(`${baseURL}/ocr`, { method: 'POST', body: form });
}

describe('POST /v1/ocr', () => {
  it('reads back the lines of a PNG uploaded as a multipart file, locally', async () => {
    const response = await postFile(png, 'scan.png', 'image/png');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-sluice-route')).toBe('local');
    expect(response.headers.get('x-sluice-model')).toBe('rapidocr');
    const body = (await response.json()) as OcrBody;
    expect(Object.keys(body).sort()).toEqual(['blocks', 'text']);
    expectTheLines(body);
  }, 60_000);

  it('reads a JPEG sent as a data URL in JSON, and as bare base64', async () => {
    const asDataUrl = await postJson({ model: 'rapidocr', image: `data:image/jpeg;base64,${jpeg.toString('base64')}` });
    expect(asDataUrl.status).toBe(200);
    expectTheLines((await asDataUrl.json()) as OcrBody);
    const bare = await postJson({ image: png.toString('base64') });
    expect(bare.status).toBe(200);
    expectTheLines((await bare.json()) as OcrBody);
  }, 60_000);

  it.each([
    ['base64 of something that is not an image', { image: Buffer.from('just some text, not pixels').toString('base64') }, 'image'],
    ['a string that is not base64', { image: 'data:image/png;base64,@@@not base64@@@' }, 'image'],
    ['a remote URL', { image: 'http://169.254.169.254/latest/meta-data' }, 'image'],
    ['no image at all', {}, 'image'],
    ['an unknown field', { image: 'aGVsbG8=', detail: 'high' }, 'detail'],
  ])('refuses %s with a 400 naming the field', async (_case, body, param) => {
    const response = await postJson(body);
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { type: string; param: string } };
    expect(error).toMatchObject({ type: 'invalid_request_error', param });
  });

  it('refuses a multipart body without a file, and a file that is not an image', async () => {
    const form = new FormData();
    form.set('model', 'rapidocr');
    const missing = await fetch(`${baseURL}/ocr`, { method: 'POST', body: form });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { param: string } }).error.param).toBe('file');
    const notImage = await postFile(Buffer.from('%PDF-1.4 not an image'), 'scan.png', 'image/png');
    expect(notImage.status).toBe(400);
    expect(((await notImage.json()) as { error: { param: string; code: string } }).error).toMatchObject({ param: 'file', code: 'invalid_image' });
  });

  it('is listed in GET /v1/models as a local model that can ocr', async () => {
    const models = (await (await fetch(`${baseURL}/models`)).json()) as { data: { id: string; owned_by: string; sluice: { capabilities: string[] } }[] };
    expect(models.data.find((model) => model.id === 'rapidocr')).toMatchObject({ owned_by: 'local', sluice: { capabilities: ['ocr'] } });
  });
});
