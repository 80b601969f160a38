import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../../src/cli/command-context.js';
import { readManifest, recordInManifest } from '../../../src/cli/manifest.js';

const entry = (file: string) => ({ repo: 'Org/Name', revision: 'main', file, sha256: 'a'.repeat(64), size: 3, pulled_at: '2025-01-01T00:00:00.000Z' });

describe('manifest.json', () => {
  it('is empty when absent, and keeps entries sorted by path as files are recorded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-manifest-'));
    expect(await readManifest(dir)).toEqual({ version: 1, files: {} });
    await recordInManifest(dir, 'Org/Name/b.gguf', entry('b.gguf'));
    await recordInManifest(dir, 'Org/Name/a.gguf', entry('a.gguf'));
    await recordInManifest(dir, 'Org/Name/b.gguf', { ...entry('b.gguf'), size: 9 });
    const written = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(Object.keys(written.files)).toEqual(['Org/Name/a.gguf', 'Org/Name/b.gguf']);
    expect(written.files['Org/Name/b.gguf'].size).toBe(9);
    expect(await readManifest(dir)).toEqual(written);
  });

  it.each([
    ['{not json', /not valid JSON/],
    ['{"version":2,"files":{}}', /version: Invalid input/],
    ['{"version":1,"files":{"a":{"repo":"x"}}}', /files\.a\.revision/],
  ])('a damaged file (%s) is a clear error naming it', async (text, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-manifest-'));
    writeFileSync(join(dir, 'manifest.json'), text);
    const error = await readManifest(dir).catch((caught) => caught);
    expect(error).toBeInstanceOf(CliError);
    expect(error.message).toContain(join(dir, 'manifest.json'));
    expect(error.message).toMatch(message);
  });
});
