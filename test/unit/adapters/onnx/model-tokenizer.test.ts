import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelTokenizer } from '../../../../adapters/onnx/model-tokenizer.js';
import { WorkerTokenizer } from '../../../../adapters/onnx/worker-tokenizer.js';
import { SluiceError } from '../../../../adapters/spec/index.js';

// The real tokenizer of the default embedding model: its template and vocabulary are the point.
const modelDir = join(process.env.SLUICE_MODELS_DIR ?? 'models', 'embeddings', 'all-MiniLM-L6-v2');
const CLS = 101;
const SEP = 102;
const read = (name: string) => JSON.parse(readFileSync(join(modelDir, name), 'utf8'));
let tokenizer: ModelTokenizer;
/** The library called once on the whole text: what reading in pieces must reproduce. */
let whole: (text: string) => number[];

beforeAll(() => {
  if (!existsSync(join(modelDir, 'tokenizer.json'))) throw new Error(`${modelDir}/tokenizer.json is missing: run make setup`);
  tokenizer = ModelTokenizer.fromJson(read('tokenizer.json'), read('tokenizer_config.json'));
  const library = new Tokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
  whole = (text) => library.encode(text, { add_special_tokens: false }).ids;
});

const words = 'the quick brown fox jumps over a lazy dog while curious cats watch from windows'.split(' ');
const prose = (chars: number) => {
  const parts: string[] = [];
  for (let length = 0, index = 0; length < chars; index++) {
    const word = words[index % words.length] + (index % 11 === 10 ? '.\n' : ' ');
    parts.push(word);
    length += word.length;
  }
  return parts.join('');
};

describe('ModelTokenizer (all-MiniLM-L6-v2)', () => {
  it('reads the [CLS] … [SEP] template and the pad id off the tokenizer', () => {
    expect(tokenizer.prefix).toEqual([CLS]);
    expect(tokenizer.suffix).toEqual([SEP]);
    expect(tokenizer.padId).toBe(0);
  });

  it('encodes text as BERT WordPiece: lower-cased, accents kept, split into ## pieces', () => {
    // Ids checked against the Rust `tokenizers` library on the same tokenizer.json.
    expect(tokenizer.encodeText('Hello World', 256)).toEqual({ ids: [CLS, 7592, 2088, SEP], tokens: 2 });
    expect(tokenizer.encodeText('', 256)).toEqual({ ids: [CLS, SEP], tokens: 0 });
  });

  it('cuts long text so that the whole, template included, is max_length tokens, and counts the text before the cut', () => {
    const full = tokenizer.encodeText('word '.repeat(300), 10_000);
    expect(full.ids).toHaveLength(302);
    const cut = tokenizer.encodeText('word '.repeat(300), 256, 10_000);
    expect(cut.ids).toEqual([...full.ids.slice(0, 255), SEP]);
    expect(cut.tokens).toBe(300);
  });

  it.each([
    ['prose over many pieces', prose(120_000)],
    ['CJK with no whitespace at all', '北京是中国的首都，上海是最大的城市。'.repeat(4_000)],
    ['a 1 kB word among words', `start ${'x'.repeat(1_000)} end ${prose(40_000)}`],
    ['accents, emoji and tabs across cuts', `Café naïve résumé\t😀👍🏽 ${'ﬁ ligature ½ Straße '.repeat(3_000)}`],
  ])('reads %s in pieces to exactly the ids and count of one whole encode', (_name, text) => {
    const reference = whole(text);
    const encoded = tokenizer.encodeText(text, 100_000_000, 10_000_000);
    expect(encoded.tokens).toBe(reference.length);
    expect(encoded.ids).toEqual([CLS, ...reference, SEP]);
  });

  it('cuts only a run of over 1 kB without whitespace mid-word: a token more per cut, the rest exact', () => {
    const text = `start ${'x'.repeat(40_000)} end ${prose(20_000)}`;
    const reference = whole(text);
    const encoded = tokenizer.encodeText(text, 100_000_000, 10_000_000);
    // One [UNK] for the 40 kB word read whole; cut twice, it is three.
    expect(encoded.tokens).toBe(reference.length + 2);
    expect(encoded.ids.slice(-1000)).toEqual([...reference.slice(-999), SEP]);
  });

  it('stops reading a 3.9 MB text soon after its count passes the limit', () => {
    const text = prose(3_900_000);
    const { tokens, ids } = tokenizer.encodeText(text, 256, 8_192);
    expect(tokens).toBeGreaterThan(8_192);
    // All of it is ~800,000 tokens; reading stops within a piece (16 kB, ~3,300 tokens) of the limit.
    expect(tokens).toBeLessThan(8_192 + 4_000);
    expect(ids).toEqual([CLS, ...whole(text.slice(0, 5_000)).slice(0, 254), SEP]);
  });

  it('with no limit to check, reads only as far as the model sees', () => {
    const { tokens, ids } = tokenizer.encodeText(prose(3_900_000), 256);
    expect(ids).toHaveLength(256);
    expect(tokens).toBeGreaterThanOrEqual(254);
    expect(tokens).toBeLessThan(5_000);
  });
});

describe('WorkerTokenizer (the real tokenizer on its own thread)', () => {
  let worker: WorkerTokenizer;
  const limits = { maxInputs: 2048, maxInputTokens: 50, maxRequestTokens: 200 };
  beforeAll(async () => {
    worker = await WorkerTokenizer.start({ tokenizerPath: join(modelDir, 'tokenizer.json'), tokenizerConfig: read('tokenizer_config.json') });
  });
  afterAll(() => worker.close());

  it("reads the pad id and gives each text the model's view of it, as on this thread", async () => {
    expect(worker.padId).toBe(0);
    const texts = ['Hello World', '', prose(2_000), ...Array.from({ length: 150 }, (_, index) => `text number ${index}`)];
    const sequences = await worker.tokenize(texts, { maxLength: 256, model: 'm' });
    expect(sequences).toEqual(texts.map((text) => tokenizer.encodeText(text, 256).ids));
  });

  const refusal = (texts: string[]) => worker.tokenize(texts, { maxLength: 256, limits, model: 'all-minilm-l6-v2' }).catch((error: unknown) => error);

  it('refuses an input over max_input_tokens with invalid-request naming it, past the first slice of texts', async () => {
    // 64 texts go in one slice: the long one is in the second, and is named by its place in the request.
    const texts = [...Array.from({ length: 70 }, () => 'ok'), 'word '.repeat(51)];
    const failure = await refusal(texts);
    expect(failure).toBeInstanceOf(SluiceError);
    expect(failure).toMatchObject({ kind: 'invalid-request', detail: { param: 'input' } });
    expect((failure as Error).message).toContain('Input 70 is too long: at least 51 tokens');
    expect((failure as Error).message).toContain("'all-minilm-l6-v2' takes at most 50 tokens per input");
  });

  it('refuses a request over max_request_tokens, every input within its own limit, with invalid-request', async () => {
    const failure = await refusal(Array.from({ length: 120 }, () => 'two words'));
    expect(failure).toMatchObject({ kind: 'invalid-request', detail: { param: 'input' } });
    expect((failure as Error).message).toContain('Too many tokens in one request: at least 202 tokens in all');
    expect((failure as Error).message).toContain('at most 200 tokens per request');
    expect(await worker.tokenize(Array.from({ length: 100 }, () => 'two words'), { maxLength: 256, limits, model: 'm' })).toHaveLength(100);
  });

  it('gives up on an aborted call with its reason', async () => {
    const controller = new AbortController();
    controller.abort(new SluiceError('timeout', 'no embedding within 1 ms'));
    await expect(worker.tokenize(['x'], { maxLength: 256, model: 'm', signal: controller.signal })).rejects.toMatchObject({ kind: 'timeout' });
  });

  it('refuses to start with the reason when tokenizer.json is not there', async () => {
    await expect(WorkerTokenizer.start({ tokenizerPath: join(modelDir, 'no-such-tokenizer.json'), tokenizerConfig: {} })).rejects.toThrow('no-such-tokenizer.json');
  });
});
