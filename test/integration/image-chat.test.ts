/**
 * Chat with images, end to end: the real sidecar (RapidOCR) reads text drawn into a PNG, the real
 * local model (SmolLM2-135M, which cannot see and refuses image parts) answers from that text,
 * and a fake OpenAI stands for the vision vendor. A routed request that starts local is answered
 * locally from the OCR'd text; an explicit GPT-4o request, a blank image and a gateway with OCR off
 * reach the vendor with the image exactly as sent. Remote URLs are refused unless allowed, and,
 * allowed, never reach an address inside the network.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { buildGateway, type Gateway } from '../../src/gateway.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai.js';
import { LOCAL, MODELS_DIR, SMOLLM_FILE, requireLocalModel } from '../support/local-model-gateway.js';

const VENV_PYTHON = 'python-sidecar/.venv/bin/python';
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const LONG_MS = 180_000;
const VISION = ['chat', 'stream', 'tools', 'json', 'vision'];
/** Every tier starts local with GPT-4o behind it, so the test does not depend on the classifier's tier. */
const LOCAL_FIRST = Object.fromEntries(['simple', 'medium', 'high', 'creative', 'brand'].map((tier) => [tier, [LOCAL, 'gpt-4o']]));

/** Black text on white, as the OCR test draws it; no lines at all gives a blank page. */
function rendered(lines: readonly string[]): Buffer {
  const script = [
    'import io, json, sys',
    'from PIL import Image, ImageDraw, ImageFont',
    'lines = json.loads(sys.argv[1])',
    'font = ImageFont.truetype(sys.argv[2], 40)',
    'image = Image.new("RGB", (760, 90 + 70 * max(1, len(lines))), "white")',
    'draw = ImageDraw.Draw(image)',
    'for row, line in enumerate(lines): draw.text((40, 40 + row * 70), line, fill=(20, 20, 20), font=font)',
    'buffer = io.BytesIO()',
    'image.save(buffer, format="PNG")',
    'sys.stdout.buffer.write(buffer.getvalue())',
  ].join('\n');
  return execFileSync(VENV_PYTHON, ['-c', script, JSON.stringify(lines), FONT]);
}

let vendor: FakeOpenAI;
let withOcr: Started;
let withoutOcr: Started;
let ocrDown: Started;
let innerServer: Server;
let innerUrl: string;
const innerHits: string[] = [];
let invoice: string;
let blank: string;

beforeAll(async () => {
  requireLocalModel();
  for (const path of [VENV_PYTHON, FONT, join(MODELS_DIR, 'whisper/tiny.en/model.bin')]) {
    if (!existsSync(path)) throw new Error(`${path} is missing: run make setup`);
  }
  invoice = `data:image/png;base64,${rendered(['Invoice number 4821']).toString('base64')}`;
  blank = `data:image/png;base64,${rendered([]).toString('base64')}`;
  vendor = await startFakeOpenAI();
  // A server inside the network: what an SSRF attempt would reach.
  innerServer = createServer((request, response) => {
    innerHits.push(request.url ?? '');
    response.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from(invoice.split(',')[1]!, 'base64'));
  });
  await new Promise<void>((resolve) => innerServer.listen(0, '127.0.0.1', resolve));
  innerUrl = `http://127.0.0.1:${(innerServer.address() as AddressInfo).port}/scan.png`;
  // With OCR on, the sidecar is the real one; with it off, a counter that must never be asked.
  withOcr = await startGateway({ images: { allow_remote_urls: true }, sidecar: { type: 'sidecar', requires_key: false, options: { whisper_model: 'whisper/tiny.en' } } });
  withoutOcr = await startGateway({ images: { local_ocr: false }, sidecar: { type: 'sidecar', requires_key: false, base_url: new URL(innerUrl).origin } });
  // OCR on, but its sidecar is a port nobody listens on.
  ocrDown = await startGateway({ images: {}, sidecar: { type: 'sidecar', requires_key: false, base_url: 'http://127.0.0.1:9' } });
}, LONG_MS);

interface Started {
  gateway: Gateway;
  origin: string;
}

async function startGateway(options: { images: Record<string, unknown>; sidecar: Record<string, unknown> }): Promise<Started> {
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
    paths: { models_dir: MODELS_DIR, data_dir: mkdtempSync(join(tmpdir(), 'sluice-image-chat-')) },
    backends: {
      openai: { type: 'openai', base_url: vendor.url, api_key: vendor.apiKey },
      local: { type: 'llama-cpp', requires_key: false, options: { model: SMOLLM_FILE, parallel: 1, context_size: 1024 } },
      sidecar: options.sidecar,
    },
    models: [
      { id: 'gpt-4o', backend: 'openai', capabilities: VISION, price: { input_per_1m: 2.5, output_per_1m: 10 } },
      { id: LOCAL, backend: 'local', capabilities: ['chat', 'stream'] },
      { id: 'rapidocr', backend: 'sidecar', capabilities: ['ocr'] },
    ],
    // Any score passes: the test is about who answers, not the scorer's view of a 135M model.
    routing: { tiers: LOCAL_FIRST, classifier: 'rules', escalation_threshold: 0 },
    images: options.images,
    cache: { enabled: false },
    learning: { drift: { enabled: false } },
  });
  const gateway = buildGateway(config, pino({ level: 'silent' }));
  await gateway.ready;
  const server = await gateway.listen(0, '127.0.0.1');
  return { gateway, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

afterAll(async () => {
  await withOcr?.gateway.close();
  await withoutOcr?.gateway.close();
  await ocrDown?.gateway.close();
  await vendor?.close();
  innerServer?.closeAllConnections();
  await new Promise((resolve) => innerServer?.close(resolve));
});

interface ChatBody {
  choices: { message: { content: string } }[];
  error?: { message: string; param: string; type: string };
}

function imageMessage(url: string, question = 'What is the invoice number? Answer with the number only.') {
  return [{ role: 'user', content: [{ type: 'text', text: question }, { type: 'image_url', image_url: { url } }] }];
}

async function chat(at: string, body: Record<string, unknown>): Promise<{ response: Response; body: ChatBody }> {
  const response = await fetch(`${at}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ temperature: 0, max_tokens: 24, ...body }) });
  return { response, body: (await response.json()) as ChatBody };
}

/** The image parts the fake vendor received in its chat requests since `from`. */
function vendorImages(from: number): unknown[] {
  return vendor.requests
    .slice(from)
    .filter((request) => request.path.endsWith('/chat/completions'))
    .flatMap((request) => (request.body as { messages: { content: unknown }[] }).messages.flatMap((message) => (Array.isArray(message.content) ? message.content : [])))
    .filter((part: { type?: string }) => part.type === 'image_url');
}

describe('chat with an image, routed', () => {
  it('answers `auto` locally from the text OCR read in the image, and says so in the route reason', async () => {
    const before = vendor.requests.length;
    const { response, body } = await chat(withOcr.origin, { model: 'auto', messages: imageMessage(invoice) });
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(response.headers.get('x-sluice-route')).toBe('local');
    expect(response.headers.get('x-sluice-model')).toBe(LOCAL);
    expect(response.headers.get('x-sluice-route-reason')).toMatch(/;image:ocr$/);
    // The number exists only in the picture: the local model read it from the OCR'd text.
    expect(body.choices[0]!.message.content).toContain('4821');
    expect(vendor.requests.length).toBe(before);
  }, LONG_MS);

  it('streams the local answer the same way', async () => {
    const response = await fetch(`${withOcr.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'auto', stream: true, temperature: 0, max_tokens: 24, messages: imageMessage(invoice) }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-sluice-route')).toBe('local');
    expect(response.headers.get('x-sluice-route-reason')).toMatch(/;image:ocr$/);
    const text = (await response.text())
      .split('\n')
      .filter((line) => line.startsWith('data: {'))
      .map((line) => (JSON.parse(line.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '')
      .join('');
    expect(text).toContain('4821');
  }, LONG_MS);

  it('sends an image OCR cannot read anything in to the vision vendor, unchanged', async () => {
    const before = vendor.requests.length;
    const { response } = await chat(withOcr.origin, { model: 'auto', messages: imageMessage(blank, 'What is in this picture?') });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-sluice-route')).toBe('openai');
    expect(response.headers.get('x-sluice-route-reason')).toMatch(/;image:ocr-unreadable$/);
    expect(vendorImages(before)).toEqual([{ type: 'image_url', image_url: { url: blank } }]);
  }, LONG_MS);

  it('goes to the vision vendor when the OCR model fails', async () => {
    const before = vendor.requests.length;
    const { response } = await chat(ocrDown.origin, { model: 'auto', messages: imageMessage(invoice) });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-sluice-route')).toBe('openai');
    expect(response.headers.get('x-sluice-route-reason')).toMatch(/;image:ocr-failed$/);
    expect(vendorImages(before)).toEqual([{ type: 'image_url', image_url: { url: invoice } }]);
  }, LONG_MS);

  it('goes to the vision vendor when OCR is off (images.local_ocr: false), never asking the OCR model', async () => {
    const before = vendor.requests.length;
    const { response } = await chat(withoutOcr.origin, { model: 'auto', messages: imageMessage(invoice) });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-sluice-route')).toBe('openai');
    expect(response.headers.get('x-sluice-route-reason')).toMatch(/;image:vision$/);
    expect(innerHits.filter((path) => path.startsWith('/ocr'))).toEqual([]);
    expect(response.headers.get('x-sluice-model')).toBe('gpt-4o');
    expect(vendorImages(before)).toEqual([{ type: 'image_url', image_url: { url: invoice } }]);
  }, LONG_MS);
});

describe('chat with an image, to an explicit vision model', () => {
  it('gives gpt-4o the image part exactly as sent, and no OCR', async () => {
    const before = vendor.requests.length;
    const { response } = await chat(withOcr.origin, { model: 'gpt-4o', messages: imageMessage(invoice) });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-sluice-route')).toBe('openai');
    expect(vendorImages(before)).toEqual([{ type: 'image_url', image_url: { url: invoice } }]);
  });

  it('passes a remote URL to the vendor as-is when remote URLs are allowed; the gateway does not fetch it', async () => {
    const before = vendor.requests.length;
    const { response } = await chat(withOcr.origin, { model: 'gpt-4o', messages: imageMessage('https://images.example.com/cat.png') });
    expect(response.status).toBe(200);
    expect(vendorImages(before)).toEqual([{ type: 'image_url', image_url: { url: 'https://images.example.com/cat.png' } }]);
  });
});

describe('remote image URLs', () => {
  it('go to a vision vendor as sent while images.allow_remote_urls is off: the gateway fetches nothing, auto skips the local model', async () => {
    const before = vendor.requests.length;
    const url = 'https://images.example.com/cat.png';
    const explicit = await chat(withoutOcr.origin, { model: 'gpt-4o', messages: imageMessage(url) });
    expect(explicit.response.status).toBe(200);
    // OCR on (its sidecar down: it must not even be asked), remote fetching off.
    const routed = await chat(ocrDown.origin, { model: 'auto', messages: imageMessage(url) });
    expect(routed.response.status).toBe(200);
    expect(routed.response.headers.get('x-sluice-model')).toBe('gpt-4o');
    expect(routed.response.headers.get('x-sluice-route-reason')).toMatch(/;image:remote-url$/);
    expect(vendorImages(before)).toEqual([
      { type: 'image_url', image_url: { url } },
      { type: 'image_url', image_url: { url } },
    ]);
  });

  it('other schemes are refused with a 400 naming the part, whatever the model', async () => {
    for (const model of ['auto', 'gpt-4o']) {
      const { response, body } = await chat(withoutOcr.origin, { model, messages: imageMessage('file:///etc/passwd') });
      expect(response.status).toBe(400);
      expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'messages[0].content[1].image_url.url', code: 'invalid_image_url' });
    }
  });

  it.each([
    ['127.0.0.1 (a live server)', () => innerUrl, /loopback/],
    ['localhost', () => innerUrl.replace('127.0.0.1', 'localhost'), /loopback/],
    ['10.0.0.1', () => 'http://10.0.0.1/scan.png', /private/],
    ['the metadata address', () => 'http://169.254.169.254/latest/meta-data/', /metadata/],
    ['[::ffff:127.0.0.1]', () => innerUrl.replace('127.0.0.1', '[::ffff:127.0.0.1]'), /loopback/],
  ])('are never fetched from %s for local OCR, even when allowed: 400, nothing reached', async (_case, url, reason) => {
    const before = innerHits.length;
    const { response, body } = await chat(withOcr.origin, { model: 'auto', messages: imageMessage(url()) });
    expect(response.status).toBe(400);
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'messages[0].content[1].image_url.url' });
    expect(body.error!.message).toMatch(reason);
    expect(innerHits.length).toBe(before);
  });
});
