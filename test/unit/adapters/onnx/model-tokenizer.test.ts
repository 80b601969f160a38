import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelTokenizer } from '../../../../adapters/onnx/model-tokenizer.js';

// The real tokenizer of the default embedding model: its template and vocabulary are the point.
const modelDir = join(process.env.SLUICE_MODELS_DIR ?? 'models', 'embeddings', 'all-MiniLM-L6-v2');
const CLS = 101;
const SEP = 102;
let tokenizer: ModelTokenizer;

beforeAll(() => {
  if (!existsSync(join(modelDir, 'tokenizer.json'))) throw new Error(`${modelDir}/tokenizer.json is missing: run make setup`);
  const read = (name: string) => JSON.parse(readFileSync(join(modelDir, name), 'utf8'));
  tokenizer = ModelTokenizer.fromJson(read('tokenizer.json'), read('tokenizer_config.json'), read('config.json').vocab_size);
});

describe('ModelTokenizer (all-MiniLM-L6-v2)', () => {
  it('reads the [CLS] … [SEP] template, the vocabulary size and the pad id off the tokenizer', () => {
    expect(tokenizer.prefix).toEqual([CLS]);
    expect(tokenizer.suffix).toEqual([SEP]);
    expect(tokenizer.vocabSize).toBe(30522);
    expect(tokenizer.padId).toBe(0);
  });

  it('encodes text as BERT WordPiece: lower-cased, accents kept, split into ## pieces', () => {
    // Ids checked against the Rust `tokenizers` library on the same tokenizer.json.
    expect(tokenizer.encodeText('Hello World', 256)).toEqual([CLS, 7592, 2088, SEP]);
    expect(tokenizer.encodeText('', 256)).toEqual([CLS, SEP]);
  });

  it('cuts long text so that the whole, template included, is max_length tokens', () => {
    const full = tokenizer.encodeText('word '.repeat(300), 10_000);
    expect(full).toHaveLength(302);
    const cut = tokenizer.encodeText('word '.repeat(300), 256);
    expect(cut).toHaveLength(256);
    expect(cut).toEqual([...full.slice(0, 255), SEP]);
  });

  it('takes token arrays with or without the template to the same sequence as the text', () => {
    const text = tokenizer.encodeText('Token arrays are text too.', 256);
    const bare = text.slice(1, -1);
    expect(tokenizer.encodeTokens(text, 256, 0)).toEqual(text);
    expect(tokenizer.encodeTokens(bare, 256, 0)).toEqual(text);
    expect(tokenizer.encodeTokens([CLS, ...bare], 256, 0)).toEqual(text);
    expect(tokenizer.encodeTokens([...bare, SEP], 256, 0)).toEqual(text);
    expect(tokenizer.encodeTokens([CLS], 256, 0)).toEqual([CLS, SEP]);
    expect(tokenizer.encodeTokens([SEP], 256, 0)).toEqual([CLS, SEP]);
  });

  it('keeps special tokens inside a token array as they are', () => {
    expect(tokenizer.encodeTokens([2023, SEP, 2023], 256, 0)).toEqual([CLS, 2023, SEP, 2023, SEP]);
  });

  it('truncates token arrays like text, keeping the closing [SEP]', () => {
    const long = Array.from({ length: 600 }, () => 2773);
    expect(tokenizer.encodeTokens(long, 256, 0)).toEqual([CLS, ...long.slice(0, 254), SEP]);
    expect(tokenizer.encodeTokens([CLS, ...long, SEP], 256, 0)).toEqual([CLS, ...long.slice(0, 254), SEP]);
  });

  it.each([
    [[1, 30522], 'input[3][1] is 30522'],
    [[100_000], 'input[3][0] is 100000'],
    [[-1], 'input[3][0] is -1'],
    [[1.5], 'input[3][0] is 1.5'],
  ])('rejects %j, which is not a token id of this model, as invalid-request on input', (ids, message) => {
    try {
      tokenizer.encodeTokens(ids, 256, 3);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ kind: 'invalid-request', detail: { param: 'input' } });
      expect((error as Error).message).toContain(message);
      expect((error as Error).message).toContain('0 to 30521');
    }
  });
});
