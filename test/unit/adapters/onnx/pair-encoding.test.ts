/**
 * A cross-encoder's (query, document) pairs: the ids ModelTokenizer.encodePair gives must be the
 * ones the Rust `tokenizers` library gives for `encode(query, document)` with Hugging Face's
 * default longest_first truncation (what sentence-transformers' CrossEncoder feeds ms-marco), and
 * padding must mark the second segment where the library's token_type_ids do.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelTokenizer } from '../../../../adapters/onnx/model-tokenizer.js';
import { padBatch } from '../../../../adapters/onnx/pooling.js';

const modelDir = join(process.env.SLUICE_MODELS_DIR ?? 'models', 'embeddings', 'all-MiniLM-L6-v2');
const VENV_PYTHON = 'python-sidecar/.venv/bin/python';
const read = (name: string) => JSON.parse(readFileSync(join(modelDir, name), 'utf8'));
let tokenizer: ModelTokenizer;

beforeAll(() => {
  for (const path of [join(modelDir, 'tokenizer.json'), VENV_PYTHON]) if (!existsSync(path)) throw new Error(`${path} is missing: run make setup`);
  tokenizer = ModelTokenizer.fromJson(read('tokenizer.json'), read('tokenizer_config.json'));
});

/** The Rust library on the same tokenizer.json, truncating pairs to `maxLength` longest first. */
function reference(pairs: [string, string][], maxLength: number): { ids: number[]; typeIds: number[] }[] {
  const script = [
    'import json, sys',
    'from tokenizers import Tokenizer',
    't = Tokenizer.from_file(sys.argv[1])',
    't.no_padding()',
    't.enable_truncation(int(sys.argv[2]), strategy="longest_first")',
    'pairs = json.loads(sys.stdin.read())',
    'print(json.dumps([{"ids": e.ids, "typeIds": e.type_ids} for e in (t.encode(q, d) for q, d in pairs)]))',
  ].join('\n');
  return JSON.parse(execFileSync(VENV_PYTHON, ['-c', script, join(modelDir, 'tokenizer.json'), String(maxLength)], { input: JSON.stringify(pairs) }).toString());
}

const long = (word: string, count: number) => Array.from({ length: count }, (_, index) => `${word}${index % 7}`).join(' ');
const PAIRS: [string, string][] = [
  ['how do I reset my password?', 'Open Settings, then Account, and choose Reset password.'],
  ['short query', long('document', 400)],
  [long('query', 400), 'a short document'],
  [long('query', 300), long('document', 300)],
  ['', 'an empty query'],
  ['an empty document', ''],
];

describe('ModelTokenizer.encodePair (all-MiniLM-L6-v2)', () => {
  it('reads the [CLS] A [SEP] B [SEP] template off the tokenizer, B in segment 1', () => {
    expect(tokenizer.pair).toEqual({ prefix: [101], middle: [102], suffix: [102], secondTypeId: 1 });
    expect(tokenizer.segmentMarks).toEqual({ separatorId: 102, secondTypeId: 1 });
  });

  it.each([512, 64, 7])('gives the ids and token types the Rust library gives, cut longest first to %i', (maxLength) => {
    const expected = reference(PAIRS, maxLength);
    const encoded = PAIRS.map(([query, document]) => tokenizer.encodePair(query, document, maxLength).ids);
    expect(encoded).toEqual(expected.map((entry) => entry.ids));
    const batch = padBatch(encoded, tokenizer.padId, tokenizer.segmentMarks);
    encoded.forEach((ids, row) => {
      const types = Array.from(batch.tokenTypeIds.subarray(row * batch.sequenceLength, row * batch.sequenceLength + ids.length), Number);
      expect(types).toEqual(expected[row].typeIds);
    });
  });

  it("drops a literal [SEP] from the query, so the template's separator is the first", () => {
    const { ids } = tokenizer.encodePair('before [SEP] after', 'document', 512);
    expect(ids.filter((id) => id === 102)).toHaveLength(2);
  });

  it("counts the query's and the document's own tokens, read past the cut up to countUpTo", () => {
    const { tokens, ids } = tokenizer.encodePair('two words', long('word', 1000), 32, 5000);
    expect(ids).toHaveLength(32);
    expect(tokens).toBeGreaterThan(1000);
  });
});
