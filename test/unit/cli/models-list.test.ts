import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildModelsReport, formatModelsReport } from '../../../src/cli/models-list.js';
import { parseConfig } from '../../../src/config/load.js';

function modelsDirWithFiles(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-list-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const configFor = (modelsDir: string) =>
  parseConfig({
    paths: { models_dir: modelsDir },
    backends: {
      llama: { type: 'llama-cpp', requires_key: false, options: { model: 'chat/small.gguf' } },
      onnx: { type: 'onnx', requires_key: false, options: { model_dir: 'embeddings/minilm' } },
      sidecar: { type: 'sidecar', requires_key: false, options: { whisper_model: 'whisper/base' } },
      bare: { type: 'llama-cpp', requires_key: false },
      deepseek: { type: 'openai-compatible', api_key_env: 'DEEPSEEK_API_KEY' },
    },
    models: [
      { id: 'local-chat', backend: 'llama', capabilities: ['chat'] },
      { id: 'local-embed', backend: 'onnx', capabilities: ['embed'] },
      { id: 'local-whisper', backend: 'sidecar', capabilities: ['transcribe'] },
      { id: 'unpathed', backend: 'bare', capabilities: ['chat'] },
      { id: 'deepseek-chat', backend: 'deepseek', capabilities: ['chat'] },
    ],
  });

describe('models list', () => {
  it('reports local files (a directory by its total), vendors, and the files no model uses', async () => {
    const modelsDir = modelsDirWithFiles({
      'chat/small.gguf': '12345',
      'chat/big.gguf': '1234567890',
      'embeddings/minilm/model.onnx': 'abc',
      'embeddings/minilm/tokenizer.json': '{}',
      'embeddings/minilm-old/model.onnx': 'x',
      'Org/Name/config.json': '{}',
      'manifest.json': JSON.stringify({ version: 1, files: { 'Org/Name/config.json': { repo: 'Org/Name', revision: 'main', file: 'config.json', sha256: 'a'.repeat(64), size: 2, pulled_at: 'x' } } }),
      '.stamps/chat/small.gguf.sha256': 'x',
    });
    const report = await buildModelsReport(configFor(modelsDir), 'test.yaml', {
      version: 1,
      files: { 'Org/Name/config.json': { repo: 'Org/Name', revision: 'main', file: 'config.json', sha256: 'a'.repeat(64), size: 2, pulled_at: 'x' } },
    });
    expect(report.models.map((model) => [model.id, model.type, model.local, model.files])).toEqual([
      ['local-chat', 'llama-cpp', true, [{ option: 'model', path: 'chat/small.gguf', present: true, kind: 'file', size: 5 }]],
      ['local-embed', 'onnx', true, [{ option: 'model_dir', path: 'embeddings/minilm', present: true, kind: 'directory', size: 5 }]],
      ['local-whisper', 'sidecar', true, [{ option: 'whisper_model', path: 'whisper/base', present: false }]],
      ['unpathed', 'llama-cpp', true, []],
      ['deepseek-chat', 'openai-compatible', false, []],
    ]);
    // A sibling folder whose name starts like a used one is not "used".
    expect(report.unused).toEqual([
      { path: 'Org/Name/config.json', size: 2, repo: 'Org/Name', revision: 'main' },
      { path: 'chat/big.gguf', size: 10 },
      { path: 'embeddings/minilm-old/model.onnx', size: 1 },
    ]);

    expect(formatModelsReport(report)).toBe(
      [
        `config test.yaml, models directory ${modelsDir}`,
        '',
        'MODEL          BACKEND   TYPE               FILES    SIZE  PATH',
        'local-chat     llama     llama-cpp          present  5 B   chat/small.gguf',
        'local-embed    onnx      onnx               present  5 B   embeddings/minilm/',
        'local-whisper  sidecar   sidecar            MISSING        whisper/base',
        'unpathed       bare      llama-cpp          -              (no model/model_dir/whisper_model option)',
        'deepseek-chat  deepseek  openai-compatible  vendor',
        '',
        `Files under ${modelsDir} that no model uses (3, 13 B):`,
        '  2 B   Org/Name/config.json              from Org/Name@main',
        '  10 B  chat/big.gguf',
        '  1 B   embeddings/minilm-old/model.onnx',
        '',
      ].join('\n'),
    );
  });

  it('says so when every file is used, or the directory does not exist', async () => {
    const report = await buildModelsReport(configFor(join(tmpdir(), 'sluice-no-such-dir')), 'test.yaml', { version: 1, files: {} });
    expect(report.unused).toEqual([]);
    expect(formatModelsReport(report)).toContain(`No other files under ${join(tmpdir(), 'sluice-no-such-dir')}.`);
  });
});
