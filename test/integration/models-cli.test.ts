import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/auth/key-store.js';
import { startFakeHub, type FakeHub } from '../fakes/fake-hub.js';
import { runSluice } from '../support/sluice-cli.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MiB = 1024 * 1024;

// Random bytes made here: what the fake hub serves, and what the pulled files must equal.
const TINY = {
  'tiny.Q4_K_M.gguf': randomBytes(3 * MiB),
  'tiny.Q8_0.gguf': randomBytes(5 * MiB),
  'config.json': Buffer.from(JSON.stringify({ architectures: ['LlamaForCausalLM'], hidden_size: 64 })),
  'README.md': Buffer.from('# tiny\n'),
};
const ENCODER = {
  'onnx/model.onnx': randomBytes(2 * MiB),
  'tokenizer.json': Buffer.from('{"version":"1.0"}'),
  'config.json': Buffer.from('{"hidden_size":384}'),
};
const GATED = { 'weights.bin': randomBytes(MiB) };
const CORRUPT = { 'model.gguf': randomBytes(2 * MiB) };

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');


const sluice = runSluice;

let hub: FakeHub;
let noRangeHub: FakeHub;
const temporary = mkdtempSync(join(tmpdir(), 'sluice-models-cli-'));
let counter = 0;
const freshModelsDir = () => {
  const dir = join(temporary, `models-${++counter}`);
  mkdirSync(dir);
  return dir;
};
const pull = (modelsDir: string, args: string[], env: Record<string, string> = {}) =>
  sluice(['models', 'pull', ...args, '--hub', hub.url], { SLUICE_MODELS_DIR: modelsDir, ...env });
const manifestOf = (modelsDir: string) => JSON.parse(readFileSync(join(modelsDir, 'manifest.json'), 'utf8'));
const cdnRequestsFrom = (start: number) => hub.requests.slice(start).filter((request) => request.server === 'cdn');

beforeAll(async () => {
  const repos = {
    'acme/tiny-gguf': { files: TINY },
    'acme/encoder': { files: ENCODER },
    'acme/gated-model': { files: GATED, gated: true },
    'acme/corrupt': { files: CORRUPT, corrupt: true },
  };
  [hub, noRangeHub] = await Promise.all([startFakeHub({ repos }), startFakeHub({ repos, acceptRanges: false })]);
});
afterAll(async () => {
  await Promise.all([hub?.close(), noRangeHub?.close()]);
});

describe('sluice models pull', () => {
  it('pulls the listed files, verifies LFS files against the hub sha256, and records them in the manifest', async () => {
    const modelsDir = freshModelsDir();
    const before = hub.requests.length;
    const run = await pull(modelsDir, ['acme/tiny-gguf', 'tiny.Q4_K_M.gguf', 'config.json'], { HF_TOKEN: hub.token });
    expect(run.stderr).not.toContain(hub.token);
    expect(run.stdout).not.toContain(hub.token);
    expect(run.code).toBe(0);
    expect(readFileSync(join(modelsDir, 'acme/tiny-gguf/tiny.Q4_K_M.gguf')).equals(TINY['tiny.Q4_K_M.gguf'])).toBe(true);
    expect(readFileSync(join(modelsDir, 'acme/tiny-gguf/config.json')).equals(TINY['config.json'])).toBe(true);
    expect(existsSync(join(modelsDir, 'acme/tiny-gguf/tiny.Q8_0.gguf'))).toBe(false);
    expect(existsSync(join(modelsDir, 'acme/tiny-gguf/tiny.Q4_K_M.gguf.part'))).toBe(false);
    // Off a TTY: one line per file, when it is done.
    expect(run.stderr).toMatch(/acme\/tiny-gguf\/tiny\.Q4_K_M\.gguf {2}3\.0 MiB {2}sha256 verified \(hub's etag\)/);
    expect(run.stderr).toMatch(/acme\/tiny-gguf\/config\.json .*sha256 recorded/);
    expect(run.stderr).not.toContain('\r');

    const files = manifestOf(modelsDir).files;
    expect(Object.keys(files).sort()).toEqual(['acme/tiny-gguf/config.json', 'acme/tiny-gguf/tiny.Q4_K_M.gguf']);
    expect(files['acme/tiny-gguf/tiny.Q4_K_M.gguf']).toMatchObject({
      repo: 'acme/tiny-gguf',
      revision: 'main',
      commit: hub.commitOf('acme/tiny-gguf'),
      file: 'tiny.Q4_K_M.gguf',
      sha256: sha256(TINY['tiny.Q4_K_M.gguf']),
      size: 3 * MiB,
    });
    expect(Date.parse(files['acme/tiny-gguf/config.json'].pulled_at)).not.toBeNaN();

    // The token went to the hub, never to the CDN the LFS redirect points at.
    const sent = hub.requests.slice(before);
    expect(sent.find((request) => request.server === 'hub')?.headers.authorization).toBe(`Bearer ${hub.token}`);
    expect(cdnRequestsFrom(before).map((request) => [request.headers.authorization, request.status])).toEqual([[undefined, 200]]);
  });

  it('pulls a whole repo into --dest, or only the files --include matches', async () => {
    const modelsDir = freshModelsDir();
    const whole = await pull(modelsDir, ['acme/encoder', '--dest', 'embeddings/encoder']);
    expect(whole.code).toBe(0);
    for (const [file, bytes] of Object.entries(ENCODER)) {
      expect(readFileSync(join(modelsDir, 'embeddings/encoder', file)).equals(bytes)).toBe(true);
    }
    expect(whole.stdout).toContain('pulled 3 file(s), 2.0 MiB, into');

    const filtered = freshModelsDir();
    const some = await pull(filtered, ['acme/encoder', '--include', '*.json']);
    expect(some.code).toBe(0);
    expect(Object.keys(manifestOf(filtered).files).sort()).toEqual(['acme/encoder/config.json', 'acme/encoder/tokenizer.json']);
  });

  it('checks --sha256 and keeps nothing when it does not match', async () => {
    const modelsDir = freshModelsDir();
    const file = 'tiny.Q4_K_M.gguf';
    const right = await pull(modelsDir, ['acme/tiny-gguf', file, '--dest', 'chat', '--sha256', sha256(TINY[file]).toUpperCase()]);
    expect(right.code).toBe(0);
    expect(right.stderr).toContain('sha256 verified (--sha256)');

    // Against the hub's sha256 (LFS file): refused before any byte comes.
    const other = freshModelsDir();
    const conflicting = await pull(other, ['acme/tiny-gguf', file, '--sha256', 'ab'.repeat(32)]);
    expect(conflicting.code).toBe(1);
    expect(conflicting.stderr).toContain(`--sha256 ${'ab'.repeat(32)} differs from the hub's sha256 ${sha256(TINY[file])}`);
    // A small file has no sha256 from the hub: downloaded, found wrong, deleted.
    const wrong = await pull(other, ['acme/tiny-gguf', 'config.json', '--sha256', 'ab'.repeat(32)]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`sha256 mismatch: expected ${'ab'.repeat(32)} (--sha256), got ${sha256(TINY['config.json'])}; the download was deleted`);
    expect(existsSync(join(other, 'acme/tiny-gguf/config.json'))).toBe(false);
    expect(existsSync(join(other, 'acme/tiny-gguf/config.json.part'))).toBe(false);
    expect(existsSync(join(other, 'acme/tiny-gguf', file))).toBe(false);
  });

  it('deletes a download whose bytes do not match the hub sha256 and exits 1', async () => {
    const modelsDir = freshModelsDir();
    const run = await pull(modelsDir, ['acme/corrupt', 'model.gguf']);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(`sha256 mismatch: expected ${sha256(CORRUPT['model.gguf'])} (hub)`);
    expect(existsSync(join(modelsDir, 'acme/corrupt/model.gguf'))).toBe(false);
    expect(existsSync(join(modelsDir, 'acme/corrupt/model.gguf.part'))).toBe(false);
    expect(existsSync(join(modelsDir, 'manifest.json'))).toBe(false);
  });

  it('resumes a .part with a Range request', async () => {
    const modelsDir = freshModelsDir();
    const bytes = TINY['tiny.Q8_0.gguf'];
    const destination = join(modelsDir, 'acme/tiny-gguf/tiny.Q8_0.gguf');
    mkdirSync(dirname(destination), { recursive: true });
    writeFileSync(`${destination}.part`, bytes.subarray(0, 1.5 * MiB));
    const before = hub.requests.length;
    const run = await pull(modelsDir, ['acme/tiny-gguf', 'tiny.Q8_0.gguf']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('resumed at 1.5 MiB');
    expect(cdnRequestsFrom(before).map((request) => [request.headers.range, request.status])).toEqual([[`bytes=${1.5 * MiB}-`, 206]]);
    expect(readFileSync(destination).equals(bytes)).toBe(true);
    expect(manifestOf(modelsDir).files['acme/tiny-gguf/tiny.Q8_0.gguf'].sha256).toBe(sha256(bytes));
  });

  it('keeps the .part of a broken transfer and resumes it on the next run', async () => {
    const modelsDir = freshModelsDir();
    const destination = join(modelsDir, 'acme/tiny-gguf/tiny.Q8_0.gguf');
    hub.cutNextDownloadAfter(2 * MiB);
    const broken = await pull(modelsDir, ['acme/tiny-gguf', 'tiny.Q8_0.gguf']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/transfer (broke|ended).*run the same command again to resume/);
    const partBytes = statSync(`${destination}.part`).size;
    expect(partBytes).toBeGreaterThan(0);
    expect(partBytes).toBeLessThanOrEqual(2 * MiB);

    const before = hub.requests.length;
    const resumed = await pull(modelsDir, ['acme/tiny-gguf', 'tiny.Q8_0.gguf']);
    expect(resumed.code).toBe(0);
    expect(cdnRequestsFrom(before).map((request) => request.headers.range)).toEqual([`bytes=${partBytes}-`]);
    expect(readFileSync(destination).equals(TINY['tiny.Q8_0.gguf'])).toBe(true);
  });

  it('starts over when the server ignores the Range header', async () => {
    const modelsDir = freshModelsDir();
    const destination = join(modelsDir, 'acme/tiny-gguf/tiny.Q4_K_M.gguf');
    mkdirSync(dirname(destination), { recursive: true });
    writeFileSync(`${destination}.part`, randomBytes(MiB));
    const before = noRangeHub.requests.length;
    const run = await sluice(['models', 'pull', 'acme/tiny-gguf', 'tiny.Q4_K_M.gguf', '--hub', noRangeHub.url], { SLUICE_MODELS_DIR: modelsDir });
    expect(run.code).toBe(0);
    const cdn = noRangeHub.requests.slice(before).filter((request) => request.server === 'cdn');
    expect(cdn.map((request) => request.status)).toEqual([200]);
    expect(readFileSync(destination).equals(TINY['tiny.Q4_K_M.gguf'])).toBe(true);
  });

  it('skips a file the manifest shows in place, unless --force', async () => {
    const modelsDir = freshModelsDir();
    expect((await pull(modelsDir, ['acme/tiny-gguf', 'config.json'])).code).toBe(0);
    const before = hub.requests.length;
    const again = await pull(modelsDir, ['acme/tiny-gguf', 'config.json']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already pulled');
    expect(again.stdout).toContain('pulled 0 file(s), 0 B, into');
    expect(again.stdout).toContain('1 already in place');
    expect(hub.requests.length).toBe(before);
    expect((await pull(modelsDir, ['acme/tiny-gguf', 'config.json', '--force'])).code).toBe(0);
    expect(hub.requests.length).toBe(before + 1);
  });

  it('says clearly what is wrong with a gated repo, an unknown file or repo, and a bad command line', async () => {
    const modelsDir = freshModelsDir();
    const gated = await pull(modelsDir, ['acme/gated-model']);
    expect(gated.code).toBe(1);
    expect(gated.stderr).toMatch(/^sluice: acme\/gated-model@main: weights\.bin: the repo is gated or private and needs a token: set HF_TOKEN .*401 GatedRepo/);
    expect(gated.stderr.trim().split('\n')).toHaveLength(1);
    const wrongToken = await pull(modelsDir, ['acme/gated-model'], { HF_TOKEN: 'hf_wrong' });
    expect(wrongToken.stderr).toContain('the hub refused the token in HF_TOKEN');
    expect(wrongToken.stderr).not.toContain('hf_wrong');
    expect((await pull(modelsDir, ['acme/gated-model'], { HF_TOKEN: hub.token })).code).toBe(0);
    expect(readFileSync(join(modelsDir, 'acme/gated-model/weights.bin')).equals(GATED['weights.bin'])).toBe(true);

    const missingFile = await pull(modelsDir, ['acme/tiny-gguf', 'nope.gguf']);
    expect([missingFile.code, missingFile.stderr]).toEqual([1, expect.stringContaining('nope.gguf: not found on')]);
    const missingRepo = await pull(modelsDir, ['acme/nothing-here']);
    expect([missingRepo.code, missingRepo.stderr]).toEqual([1, expect.stringContaining('no such repo')]);

    const usage = await Promise.all([
      sluice(['models', 'pull']),
      pull(modelsDir, ['acme/tiny-gguf', 'a.gguf', '--sha256', 'xyz']),
      pull(modelsDir, ['acme/tiny-gguf', '--dest', '../outside']),
      pull(modelsDir, ['acme/tiny-gguf', '--bogus']),
    ]);
    expect(usage.map((run) => run.code)).toEqual([2, 2, 2, 2]);
    expect(usage[1].stderr).toContain('--sha256 must be 64 hex digits');
  });
});

describe('sluice models list and verify', () => {
  it('lists the config’s models with their local files, and the files nothing uses', async () => {
    const modelsDir = freshModelsDir();
    expect((await pull(modelsDir, ['acme/tiny-gguf', 'tiny.Q4_K_M.gguf', 'config.json', '--dest', 'chat'])).code).toBe(0);
    const configPath = join(temporary, 'list-config.yaml');
    writeFileSync(
      configPath,
      [
        'backends:',
        '  local: { type: llama-cpp, requires_key: false, options: { model: chat/tiny.Q4_K_M.gguf } }',
        '  sidecar: { type: sidecar, requires_key: false, options: { whisper_model: whisper/tiny.en } }',
        '  openai: { type: openai, api_key_env: OPENAI_API_KEY }',
        'models:',
        '  - { id: local-chat, backend: local, capabilities: [chat] }',
        '  - { id: local-whisper, backend: sidecar, capabilities: [transcribe] }',
        '  - { id: gpt-4o, backend: openai, capabilities: [chat] }',
      ].join('\n'),
    );
    const env = { SLUICE_MODELS_DIR: modelsDir, SLUICE_CONFIG: configPath };
    const json = await sluice(['models', 'list', '--json'], env);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.models_dir).toBe(modelsDir);
    expect(report.models).toEqual([
      { id: 'local-chat', backend: 'local', type: 'llama-cpp', local: true, files: [{ option: 'model', path: 'chat/tiny.Q4_K_M.gguf', present: true, kind: 'file', size: 3 * MiB }] },
      { id: 'local-whisper', backend: 'sidecar', type: 'sidecar', local: true, files: [{ option: 'whisper_model', path: 'whisper/tiny.en', present: false }] },
      { id: 'gpt-4o', backend: 'openai', type: 'openai', local: false, files: [] },
    ]);
    expect(report.unused).toEqual([{ path: 'chat/config.json', size: TINY['config.json'].length, repo: 'acme/tiny-gguf', revision: 'main' }]);

    const table = await sluice(['models', 'list'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/local-chat +local +llama-cpp +present +3\.0 MiB +chat\/tiny\.Q4_K_M\.gguf/);
    expect(table.stdout).toMatch(/local-whisper +sidecar +sidecar +MISSING +whisper\/tiny\.en/);
    expect(table.stdout).toMatch(/gpt-4o +openai +openai +vendor/);
    expect(table.stdout).toMatch(/no model uses \(1, .*\n.*chat\/config\.json +from acme\/tiny-gguf@main/);
  });

  it('verifies pulled and stamped files, then finds a tampered and a missing one', async () => {
    const modelsDir = freshModelsDir();
    expect((await pull(modelsDir, ['acme/encoder'])).code).toBe(0);
    // A file fetched by scripts/fetch-models.sh: the file plus .stamps/<path>.sha256.
    const stamped = randomBytes(4096);
    mkdirSync(join(modelsDir, 'chat'));
    mkdirSync(join(modelsDir, '.stamps/chat'), { recursive: true });
    writeFileSync(join(modelsDir, 'chat/fetched.gguf'), stamped);
    writeFileSync(join(modelsDir, '.stamps/chat/fetched.gguf.sha256'), `${sha256(stamped)}\n`);
    const env = { SLUICE_MODELS_DIR: modelsDir };

    const clean = await sluice(['models', 'verify', '--json'], env);
    expect(clean.code).toBe(0);
    const results = JSON.parse(clean.stdout).results;
    expect(results.map((result: { path: string; status: string; source: string }) => [result.path, result.source, result.status])).toEqual([
      ['acme/encoder/config.json', 'manifest', 'ok'],
      ['acme/encoder/onnx/model.onnx', 'manifest', 'ok'],
      ['acme/encoder/tokenizer.json', 'manifest', 'ok'],
      ['chat/fetched.gguf', 'stamp', 'ok'],
    ]);

    const onnx = join(modelsDir, 'acme/encoder/onnx/model.onnx');
    const tampered = Buffer.from(ENCODER['onnx/model.onnx']);
    tampered[12345] ^= 1;
    writeFileSync(onnx, tampered);
    writeFileSync(join(modelsDir, '.stamps/chat/gone.bin.sha256'), `${'0'.repeat(64)}\n`);
    const dirty = await sluice(['models', 'verify'], env);
    expect(dirty.code).toBe(1);
    expect(dirty.stdout).toMatch(/^MISMATCH {2}acme\/encoder\/onnx\/model\.onnx {2}\(manifest\) {2}sha256 [0-9a-f]{64}, expected/m);
    expect(dirty.stdout).toMatch(/^MISSING +chat\/gone\.bin {2}\(stamp\)$/m);
    expect(dirty.stdout).toMatch(/^ok +chat\/fetched\.gguf/m);
    expect(dirty.stderr).toBe('sluice: models verify: 2 of 5 file(s) failed (1 mismatch, 1 missing); pull or fetch them again\n');
  });
});

describe('sluice hash-key and serve', () => {
  it('prints the sha256 of a key, from the argument or stdin', async () => {
    expect(await sluice(['hash-key', 'sk-team-secret'])).toEqual({ code: 0, stdout: `${sha256Hex('sk-team-secret')}\n`, stderr: '' });
    expect((await sluice(['hash-key', '-'], {}, 'sk-team-secret\n')).stdout).toBe(`${sha256Hex('sk-team-secret')}\n`);
    expect((await sluice(['hash-key'])).code).toBe(2);
  });

  it('serve starts the gateway, which answers /health and stops on SIGTERM', async () => {
    const configPath = join(temporary, 'serve-config.yaml');
    writeFileSync(configPath, 'server: { log_level: info }\nbackends: {}\nmodels: []\n');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/sluice.ts', 'serve', '--config', configPath, '--port', '0', '--host', '127.0.0.1'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', SLUICE_DATA_DIR: join(temporary, 'data'), SLUICE_MODELS_DIR: freshModelsDir() },
    });
    const exited = new Promise<number | null>((done) => child.on('close', done));
    const origin = await new Promise<string>((done, fail) => {
      let output = '';
      child.stdout.on('data', (chunk) => {
        output += chunk;
        const match = output.match(/sluice listening on http:\/\/127\.0\.0\.1:(\d+)/);
        if (match) done(`http://127.0.0.1:${match[1]}`);
      });
      child.on('close', () => fail(new Error(`serve exited before listening: ${output}`)));
    });
    expect((await fetch(`${origin}/health`)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
