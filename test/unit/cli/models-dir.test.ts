import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../../src/cli/command-context.js';
import { isSafeRelativePath, measurePath, relativeKey, resolveInside, resolveModelsDir, walkFiles } from '../../../src/cli/models-dir.js';

describe('paths under the models directory', () => {
  it.each([
    ['model.gguf', true],
    ['Org/Name/onnx/model.onnx', true],
    ['.', true],
    ['a/./b', true],
    ['', false],
    ['..', false],
    ['a/../../b', false],
    ['a/..', false],
    ['/etc/passwd', false],
    ['..\\windows', false],
    ['nul\0byte', false],
  ])('%j is safe: %s', (path, expected) => {
    expect(isSafeRelativePath(path)).toBe(expected);
  });

  it('resolves inside the root and refuses to leave it', () => {
    expect(resolveInside('/models', 'chat/a.gguf')).toBe('/models/chat/a.gguf');
    expect(resolveInside('/models', '.')).toBe('/models');
    expect(() => resolveInside('/models', '../models-evil/x')).toThrow(CliError);
    expect(relativeKey('/models', '/models/chat/a.gguf')).toBe('chat/a.gguf');
  });

  it('is SLUICE_MODELS_DIR, else the config’s paths.models_dir', () => {
    expect(resolveModelsDir({ SLUICE_MODELS_DIR: 'some/where' })).toBe(resolve('some/where'));
    const dir = mkdtempSync(join(tmpdir(), 'sluice-models-dir-'));
    const config = join(dir, 'sluice.yaml');
    writeFileSync(config, 'paths: { models_dir: /srv/models }\n');
    expect(resolveModelsDir({ SLUICE_CONFIG: config })).toBe('/srv/models');
  });

  it('walks files sorted, skipping hidden bookkeeping unless asked, following symlinks', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sluice-walk-'));
    mkdirSync(join(root, 'chat'));
    mkdirSync(join(root, '.stamps/chat'), { recursive: true });
    writeFileSync(join(root, 'chat/b.gguf'), 'bb');
    writeFileSync(join(root, 'a.bin'), 'a');
    writeFileSync(join(root, '.fetch.lock'), '');
    writeFileSync(join(root, '.stamps/chat/b.gguf.sha256'), 'x\n');
    symlinkSync(join(root, 'chat/b.gguf'), join(root, 'linked.gguf'));
    expect(await walkFiles(root)).toEqual([
      { path: 'a.bin', size: 1 },
      { path: 'chat/b.gguf', size: 2 },
      { path: 'linked.gguf', size: 2 },
    ]);
    expect((await walkFiles(root, { includeHidden: true })).map((file) => file.path)).toEqual([
      '.fetch.lock',
      '.stamps/chat/b.gguf.sha256',
      'a.bin',
      'chat/b.gguf',
      'linked.gguf',
    ]);
    expect(await walkFiles(join(root, 'absent'))).toEqual([]);
    expect(await measurePath(join(root, 'chat'))).toEqual({ kind: 'directory', size: 2 });
    expect(await measurePath(join(root, 'a.bin'))).toEqual({ kind: 'file', size: 1 });
    expect(await measurePath(join(root, 'a.bin/below'))).toBeUndefined();
  });
});
