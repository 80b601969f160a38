import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectChecks, formatVerifyLine, verifyModels } from '../../../src/cli/models-verify.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function write(root: string, path: string, text: string) {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
}

function modelsDir() {
  const root = mkdtempSync(join(tmpdir(), 'sluice-verify-'));
  const entry = (file: string, text: string) => ({ repo: 'Org/Name', revision: 'main', file, sha256: sha256(text), size: text.length, pulled_at: 'x' });
  write(root, 'manifest.json', JSON.stringify({
    version: 1,
    files: {
      'Org/Name/good.bin': entry('good.bin', 'good'),
      'Org/Name/tampered.bin': entry('tampered.bin', 'original'),
      'Org/Name/shorter.bin': entry('shorter.bin', 'longer text'),
      'Org/Name/gone.bin': entry('gone.bin', 'gone'),
    },
  }));
  write(root, 'Org/Name/good.bin', 'good');
  write(root, 'Org/Name/tampered.bin', 'Original');
  write(root, 'Org/Name/shorter.bin', 'short');
  // scripts/fetch-models.sh's stamps: .stamps/<path>.sha256, the hex and a newline.
  write(root, 'chat/model.gguf', 'weights');
  write(root, '.stamps/chat/model.gguf.sha256', `${sha256('weights')}\n`);
  write(root, '.stamps/embeddings/minilm/.hidden.json.sha256', `${sha256('{}')}\n`);
  write(root, 'embeddings/minilm/.hidden.json', '{}');
  write(root, 'Org/Name/good.bin.sha256-unrelated', 'x');
  return root;
}

describe('models verify', () => {
  it('collects the manifest’s entries and the fetch script’s stamps', async () => {
    const checks = await collectChecks(modelsDir());
    expect(checks.map((check) => [check.path, check.source])).toEqual([
      ['Org/Name/good.bin', 'manifest'],
      ['Org/Name/tampered.bin', 'manifest'],
      ['Org/Name/shorter.bin', 'manifest'],
      ['Org/Name/gone.bin', 'manifest'],
      ['chat/model.gguf', 'stamp'],
      ['embeddings/minilm/.hidden.json', 'stamp'],
    ]);
    expect(checks[4].expectedSha256).toBe(sha256('weights'));
  });

  it('finds ok, mismatched (by hash or by size) and missing files, reporting each as it goes', async () => {
    const seen: string[] = [];
    const results = await verifyModels(modelsDir(), (result) => seen.push(result.path));
    expect(results.map((result) => [result.path, result.status])).toEqual([
      ['Org/Name/good.bin', 'ok'],
      ['Org/Name/tampered.bin', 'mismatch'],
      ['Org/Name/shorter.bin', 'mismatch'],
      ['Org/Name/gone.bin', 'missing'],
      ['chat/model.gguf', 'ok'],
      ['embeddings/minilm/.hidden.json', 'ok'],
    ]);
    expect(seen).toEqual(results.map((result) => result.path));
    expect(results[1].actual_sha256).toBe(sha256('Original'));
    expect(results[2].reason).toBe('size 5, expected 11');
    expect(results[2].actual_sha256).toBeUndefined(); // told by the size, not hashed
    expect(results.map(formatVerifyLine)).toEqual([
      'ok        Org/Name/good.bin  (manifest)  4 B',
      `MISMATCH  Org/Name/tampered.bin  (manifest)  sha256 ${sha256('Original')}, expected ${sha256('original')}`,
      'MISMATCH  Org/Name/shorter.bin  (manifest)  size 5, expected 11',
      'MISSING   Org/Name/gone.bin  (manifest)',
      'ok        chat/model.gguf  (stamp)  7 B',
      'ok        embeddings/minilm/.hidden.json  (stamp)  2 B',
    ]);
  });

  it('has nothing to check in an empty directory', async () => {
    expect(await verifyModels(mkdtempSync(join(tmpdir(), 'sluice-verify-')))).toEqual([]);
  });
});
