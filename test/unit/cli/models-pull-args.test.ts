import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/command-context.js';
import { parsePullArgs } from '../../../src/cli/models-pull.js';

const SHA = 'a'.repeat(64);

describe('models pull arguments', () => {
  it('defaults: revision main, dest = the repo id, the public hub', () => {
    expect(parsePullArgs(['Org/Name', 'model.gguf'], {})).toEqual({
      repo: 'Org/Name',
      files: ['model.gguf'],
      revision: 'main',
      dest: 'Org/Name',
      include: [],
      expectedSha256: undefined,
      hubUrl: 'https://huggingface.co',
      isForced: false,
    });
  });

  it('takes every option, and the hub from SLUICE_HUB_URL unless --hub says otherwise', () => {
    const args = ['Org/Name', 'sub/model.gguf', '--revision', 'v1.0', '--dest', 'chat', '--sha256', SHA.toUpperCase(), '--force'];
    expect(parsePullArgs(args, { SLUICE_HUB_URL: 'http://mirror.local/' })).toMatchObject({
      files: ['sub/model.gguf'],
      revision: 'v1.0',
      dest: 'chat',
      expectedSha256: SHA,
      hubUrl: 'http://mirror.local',
      isForced: true,
    });
    expect(parsePullArgs(['gpt2', '--hub', 'http://127.0.0.1:9000'], { SLUICE_HUB_URL: 'http://mirror.local' }).hubUrl).toBe('http://127.0.0.1:9000');
    expect(parsePullArgs(['Org/Name', '--include', '*.json', '--include', 'onnx/'], {}).include).toEqual(['*.json', 'onnx/']);
  });

  it.each([
    [[], /which repo/],
    [['../etc'], /not a repo id/],
    [['Org/Name/extra'], /not a repo id/],
    [['Org/Name', '../../escape.bin'], /not a file path inside the repo/],
    [['Org/Name', '/etc/passwd'], /not a file path inside the repo/],
    [['Org/Name', '--dest', '/abs'], /--dest "\/abs" must be a relative path/],
    [['Org/Name', '--dest', 'a/../../b'], /--dest .* must be a relative path/],
    [['Org/Name', 'a.gguf', '--include', '*.gguf'], /list files or use --include, not both/],
    [['Org/Name', 'a.gguf', '--sha256', 'xyz'], /--sha256 must be 64 hex digits/],
    [['Org/Name', '--sha256', SHA], /--sha256 needs exactly one file/],
    [['Org/Name', 'a', 'b', '--sha256', SHA], /--sha256 needs exactly one file/],
    [['Org/Name', '--hub', 'ftp://hub'], /not an http\(s\) URL/],
    [['Org/Name', '--revision'], /argument missing/],
    [['Org/Name', '--bogus'], /Unknown option '--bogus'/],
  ])('%j is a usage error', (args, message) => {
    const parse = () => parsePullArgs(args, {});
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(message);
  });
});
