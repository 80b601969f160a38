/**
 * The gateway runs the Python sidecar itself: starts it, restarts it when it dies, stops it on
 * close; transcription goes local while it is up and falls back to a vendor (or a clear 503)
 * while it is down. Real sidecar, real Whisper weights, speech made with espeak-ng. Whisper's
 * transcript of that speech differs between machines ("brown fox" heard as "round-fark"), so the
 * transcript is held to a word error rate, as in the sidecar's own tests, never to one word.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { buildGateway, type Gateway } from '../../src/gateway.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai.js';
import { wordErrorRate } from '../support/word-error-rate.js';

const MODELS_DIR = resolve(process.env.SLUICE_MODELS_DIR ?? 'models');
const SENTENCE = 'The quick brown fox jumps over the lazy dog.';
/** tiny.en on one espeak-ng sentence: the bound the sidecar's tests give it (python-sidecar/tests). */
const MAX_WORD_ERROR_RATE = 0.5;

interface SidecarStatus {
  pid?: number;
  isUp: boolean;
  restarts: number;
}

async function startGateway(withVendorFallback: boolean, vendor?: FakeOpenAI) {
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
    paths: { models_dir: MODELS_DIR, data_dir: mkdtempSync(join(tmpdir(), 'sluice-sidecar-')) },
    backends: {
      sidecar: { type: 'sidecar', requires_key: false, options: { whisper_model: 'whisper/tiny.en', min_backoff_ms: 100 } },
      ...(vendor ? { openai: { type: 'openai', base_url: vendor.url, api_key: vendor.apiKey } } : {}),
    },
    models: [
      { id: 'whisper-local', backend: 'sidecar', capabilities: ['transcribe'], fallback: withVendorFallback ? ['whisper-1'] : [] },
      ...(vendor ? [{ id: 'whisper-1', backend: 'openai', capabilities: ['transcribe'], price: { input_per_1m: 0, output_per_1m: 0, audio_per_minute: 0.006 } }] : []),
    ],
  });
  const gateway = buildGateway(config, pino({ level: 'silent' }));
  const server = await gateway.listen(0, '127.0.0.1');
  const client = new OpenAI({ baseURL: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`, apiKey: 'unused', maxRetries: 0 });
  const sidecar = gateway.adapters.get('sidecar') as unknown as { status(): SidecarStatus };
  return { gateway, client, sidecar };
}

let speech: Buffer;
let vendor: FakeOpenAI;
let running: { gateway: Gateway; client: OpenAI; sidecar: { status(): SidecarStatus } };

beforeAll(async () => {
  if (!existsSync(join(MODELS_DIR, 'whisper/tiny.en/model.bin'))) throw new Error(`no Whisper weights under ${MODELS_DIR}: run make setup`);
  const wav = join(mkdtempSync(join(tmpdir(), 'sluice-speech-')), 'fox.wav');
  execFileSync('espeak-ng', ['-s', '150', '-w', wav, SENTENCE]);
  speech = readFileSync(wav);
  vendor = await startFakeOpenAI();
  running = await startGateway(true, vendor);
  await running.gateway.ready;
}, 180_000);

afterAll(async () => {
  await running?.gateway.close();
  await vendor?.close();
});

async function transcribe(client: OpenAI, audio = speech) {
  const file = await toFile(audio, 'fox.wav', { type: 'audio/wav' });
  return client.audio.transcriptions.create({ model: 'whisper-local', file }).withResponse();
}

function expectTheSentence(transcript: { text: string }): void {
  expect(wordErrorRate(SENTENCE, transcript.text), `heard ${JSON.stringify(transcript.text)}`).toBeLessThanOrEqual(MAX_WORD_ERROR_RATE);
}

describe('sidecar lifecycle', () => {
  it('transcribes locally once the sidecar is up', async () => {
    const { data, response } = await transcribe(running.client);
    expect(response.headers.get('x-sluice-route')).toBe('local');
    expectTheSentence(data);
  }, 60_000);

  it('an upload the sidecar cannot decode is the caller’s 400, with the sidecar’s param and code, and no vendor is asked', async () => {
    const vendorCalls = vendor.calls('/v1/audio/transcriptions');
    const error = await transcribe(running.client, Buffer.from('RIFF....WAVEfmt this is not audio at all')).catch((caught) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.status).toBe(400);
    expect(error.error).toEqual(expect.objectContaining({ type: 'invalid_request_error', param: 'file', code: 'invalid_audio' }));
    expect(vendor.calls('/v1/audio/transcriptions')).toBe(vendorCalls);
  }, 60_000);

  it('a killed sidecar is restarted, and meanwhile the vendor answers', async () => {
    const before = running.sidecar.status();
    expect(before.pid).toBeTypeOf('number');
    process.kill(before.pid!, 'SIGKILL');
    await vi.waitFor(() => expect(running.sidecar.status().isUp).toBe(false), { timeout: 10_000 });
    // Down: the chain moves on to whisper-1 at the vendor instead of failing.
    const { response: fallback } = await transcribe(running.client);
    expect(fallback.headers.get('x-sluice-route')).toBe('openai');
    await vi.waitFor(() => expect(running.sidecar.status().isUp).toBe(true), { timeout: 120_000, interval: 200 });
    const after = running.sidecar.status();
    expect(after.pid).not.toBe(before.pid);
    expect(after.restarts).toBe(before.restarts + 1);
    const { data, response } = await transcribe(running.client);
    expect(response.headers.get('x-sluice-route')).toBe('local');
    expectTheSentence(data);
  }, 180_000);

  it('with the sidecar down and no vendor, the answer is a clear 503', async () => {
    const alone = await startGateway(false);
    try {
      await alone.gateway.ready;
      process.kill(alone.sidecar.status().pid!, 'SIGKILL');
      await vi.waitFor(() => expect(alone.sidecar.status().isUp).toBe(false), { timeout: 10_000 });
      const error = await transcribe(alone.client).catch((caught) => caught);
      expect(error.status).toBe(503);
      expect(error.error.message).toMatch(/sidecar/);
    } finally {
      await alone.gateway.close();
    }
    expect(alone.sidecar.status().isUp).toBe(false);
  }, 180_000);

  it('closing the gateway stops the sidecar process', async () => {
    const pid = running.sidecar.status().pid!;
    await running.gateway.close();
    expect(() => process.kill(pid, 0)).toThrow();
  }, 30_000);
});
