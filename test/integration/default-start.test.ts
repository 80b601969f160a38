/**
 * What `make start` does on a fresh clone with no vendor keys: the built gateway on the shipped
 * config answers chat, embeddings and transcription with the real local models, and says so in
 * its headers. Runs `dist/` (make test builds it first) as a child process, like a user would.
 */
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { wordErrorRate } from '../support/word-error-rate.js';

const MODELS_DIR = resolve(process.env.SLUICE_MODELS_DIR ?? 'models');
let child: ChildProcess;
let origin: string;
let client: OpenAI;

beforeAll(async () => {
  if (!existsSync('dist/src/main.js')) throw new Error('dist/ is missing: run make setup (it builds)');
  if (!existsSync(join(MODELS_DIR, 'chat'))) throw new Error(`no local models under ${MODELS_DIR}: run make setup`);
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', SLUICE_MODELS_DIR: MODELS_DIR, SLUICE_DATA_DIR: mkdtempSync(join(tmpdir(), 'sluice-start-')) };
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'DEEPSEEK_API_KEY', 'SLUICE_MASTER_KEY', 'SLUICE_CONFIG', 'SIDECAR_URL']) delete env[name];
  child = spawn(process.execPath, ['dist/src/main.js'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  origin = await new Promise<string>((resolveOrigin, reject) => {
    child.once('exit', (code) => reject(new Error(`the gateway exited with ${code} before listening`)));
    lines.on('line', (line) => {
      const match = /listening on (http:\/\/\S+)"/.exec(line) ?? /"port":(\d+)/.exec(line);
      if (line.includes('sluice listening') && match) resolveOrigin(match[1].startsWith('http') ? match[1] : `http://127.0.0.1:${match[1]}`);
    });
  });
  origin = origin.replace('0.0.0.0', '127.0.0.1');
  await vi.waitFor(async () => expect((await fetch(`${origin}/ready`)).status).toBe(200), { timeout: 240_000, interval: 500 });
  client = new OpenAI({ baseURL: `${origin}/v1`, apiKey: 'no-key-needed', maxRetries: 0, timeout: 240_000 });
}, 300_000);

afterAll(async () => {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await exited;
});

describe('make start with no vendor keys', () => {
  it('lists the local models as available and the vendors as not', async () => {
    const models = (await client.models.list()).data as unknown as { id: string; owned_by: string; sluice?: { available?: boolean } }[];
    const byId = new Map(models.map((model) => [model.id, model]));
    expect(byId.get('qwen2.5-coder-1.5b-instruct')).toMatchObject({ owned_by: 'local', sluice: { available: true } });
    expect(byId.get('all-minilm-l6-v2')?.sluice?.available).toBe(true);
    expect(byId.get('gpt-4o')?.sluice?.available).toBe(false);
  });

  it('answers a simple chat locally through the router', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'auto', messages: [{ role: 'user', content: 'What is the capital of France? Answer in one word.' }], max_tokens: 16, temperature: 0 })
      .withResponse();
    expect(response.headers.get('x-sluice-route')).toBe('local');
    expect(response.headers.get('x-sluice-tier')).toBe('simple');
    expect(response.headers.get('x-sluice-cost-usd')).toBe('0');
    expect(data.choices[0].message.content).toMatch(/paris/i);
  }, 120_000);

  it('embeds locally', async () => {
    const { data, response } = await client.embeddings.create({ model: 'all-minilm-l6-v2', input: ['hello world', 'good morning'] }).withResponse();
    expect(response.headers.get('x-sluice-route')).toBe('local');
    expect(data.data).toHaveLength(2);
    expect(data.data[0].embedding).toHaveLength(384);
  }, 60_000);

  it('transcribes locally', async () => {
    const wav = join(mkdtempSync(join(tmpdir(), 'sluice-start-speech-')), 'hello.wav');
    const sentence = 'Hello from the local speech model.';
    execFileSync('espeak-ng', ['-w', wav, sentence]);
    const { data, response } = await client.audio.transcriptions
      .create({ model: 'whisper-base', file: await toFile(readFileSync(wav), 'hello.wav', { type: 'audio/wav' }) })
      .withResponse();
    expect(response.headers.get('x-sluice-route')).toBe('local');
    // Whisper's transcript of synthetic speech differs between machines: a bound, not one word.
    expect(wordErrorRate(sentence, data.text), `heard ${JSON.stringify(data.text)}`).toBeLessThanOrEqual(0.5);
  }, 180_000);

  it('reports every answer as local, and the local chat queue, in /metrics', async () => {
    const metrics = await (await fetch(`${origin}/metrics`)).text();
    expect(metrics).toMatch(/^sluice_local_share 1$/m);
    expect(metrics).toMatch(/sluice_local_queue_depth\{backend="local-chat",state="queued"\} 0/);
  });

  it('drains and exits 0 on SIGTERM', async () => {
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});
