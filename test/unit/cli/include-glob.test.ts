import { describe, expect, it } from 'vitest';
import { globToRegExp, matchesAnyGlob } from '../../../src/cli/include-glob.js';

describe('--include globs (fnmatch, as huggingface-cli)', () => {
  it.each([
    ['*.gguf', 'model.Q4_K_M.gguf', true],
    ['*.gguf', 'sub/dir/model.gguf', true], // * crosses folders, as in fnmatch
    ['*.gguf', 'model.gguf.part', false],
    ['*Q4_K_M*', 'tiny.Q4_K_M.gguf', true],
    ['*Q4_K_M*', 'tiny.Q8_0.gguf', false],
    ['onnx/', 'onnx/model.onnx', true], // a trailing slash means the folder's contents
    ['onnx/', 'model.onnx', false],
    ['model-0000?-of-00002.safetensors', 'model-00001-of-00002.safetensors', true],
    ['model-0000?-of-00002.safetensors', 'model-000010-of-00002.safetensors', false],
    ['[ct]*.json', 'config.json', true],
    ['[ct]*.json', 'tokenizer.json', true],
    ['[!ct]*.json', 'config.json', false],
    ['[!ct]*.json', 'vocab.json', true],
    ['a+b(c).json', 'a+b(c).json', true], // regex characters are literal
    ['a+b(c).json', 'aab(c).json', false],
    ['[unclosed', '[unclosed', true],
  ])('%s matches %s: %s', (pattern, path, expected) => {
    expect(globToRegExp(pattern).test(path)).toBe(expected);
  });

  it('matches when any pattern does', () => {
    expect(matchesAnyGlob('config.json', ['*.gguf', '*.json'])).toBe(true);
    expect(matchesAnyGlob('README.md', ['*.gguf', '*.json'])).toBe(false);
    expect(matchesAnyGlob('README.md', [])).toBe(false);
  });
});
