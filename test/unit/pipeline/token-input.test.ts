import { Tiktoken } from 'js-tiktoken/lite';
import cl100kBase from 'js-tiktoken/ranks/cl100k_base';
import o200kBase from 'js-tiktoken/ranks/o200k_base';
import { beforeAll, describe, expect, it } from 'vitest';
import { SluiceError } from '../../../adapters/spec/index.js';
import { decodeTokenInput, encodingFor } from '../../../src/pipeline/token-input.js';

const SENTENCES = [
  'How do I reset my password?',
  'Café naïve résumé — façade',
  '北京是中国的首都。',
  'emoji 😀 and 👍🏽!',
  "don't stop-believing, U.S.A. e-mail@example.com $3.50\n\tindented",
  '',
];

let cl100k: Tiktoken;
let o200k: Tiktoken;
beforeAll(() => {
  // The library's own encoders: the reference for what the ids spell.
  cl100k = new Tiktoken(cl100kBase);
  o200k = new Tiktoken(o200kBase);
});

describe('encodingFor', () => {
  it.each([
    ['text-embedding-3-small', 'cl100k_base', true],
    ['text-embedding-3-large', 'cl100k_base', true],
    ['text-embedding-ada-002', 'cl100k_base', true],
    ['gpt-4o', 'o200k_base', true],
    ['all-MiniLM-L6-v2', 'cl100k_base', false],
    ['local-embed', 'cl100k_base', false],
  ])("takes %s's ids as %s", (model, encoding, isKnownModel) => {
    expect(encodingFor(model)).toEqual({ encoding, isKnownModel });
  });
});

describe('decodeTokenInput', () => {
  it('decodes cl100k_base ids to exactly the text they were encoded from, one input each, and counts the ids', async () => {
    const ids = SENTENCES.map((text) => cl100k.encode(text));
    const decoded = await decodeTokenInput(ids, 'text-embedding-3-small');
    expect(decoded.input).toEqual({ kind: 'text', values: SENTENCES });
    expect(decoded.tokenCounts).toEqual(ids.map((one) => one.length));
  });

  it('uses cl100k_base for a model OpenAI does not name, and the named model’s own encoding otherwise', async () => {
    const text = 'Tokens of another encoding spell other text.';
    expect((await decodeTokenInput([cl100k.encode(text)], 'all-minilm-l6-v2')).input.values).toEqual([text]);
    expect((await decodeTokenInput([o200k.encode(text)], 'gpt-4o')).input.values).toEqual([text]);
    expect((await decodeTokenInput([o200k.encode(text)], 'text-embedding-3-small')).input.values).not.toEqual([text]);
  });

  it('decodes as tiktoken does: special tokens as their text, a character split between inputs replaced, the BOM kept', async () => {
    const emoji = cl100k.encode('😀');
    expect(emoji.length).toBeGreaterThan(1);
    const decoded = await decodeTokenInput([[...cl100k.encode('end'), 100257], emoji.slice(0, 1), [3305, ...cl100k.encode('x')]], 'text-embedding-3-small');
    expect(decoded.input.values).toEqual(['end<|endoftext|>', '\uFFFD', '\uFEFFx']);
  });

  it.each([
    [[[1, 2], [3, 100261]], 'Invalid token id 100261 at token 1 of input 1'],
    [[[100256]], 'Invalid token id 100256 at token 0 of input 0'],
    [[[5, 6, 7, 2 ** 31]], `Invalid token id ${2 ** 31} at token 3 of input 0`],
  ])('refuses %j, not all cl100k_base tokens, as invalid-request on input, naming where', async (values, message) => {
    const failure = await decodeTokenInput(values, 'text-embedding-3-small').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SluiceError);
    expect(failure).toMatchObject({ kind: 'invalid-request', detail: { param: 'input' } });
    expect((failure as Error).message).toContain(message);
    expect((failure as Error).message).toContain("cl100k_base, the encoding of 'text-embedding-3-small'");
  });

  it('says which encoding it assumed for a model OpenAI does not name', async () => {
    await expect(decodeTokenInput([[200_000]], 'local-embed')).rejects.toThrow("cl100k_base, the encoding used for 'local-embed' (no OpenAI model of that name), has no such token");
  });
});
