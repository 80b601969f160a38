/**
 * Local embeddings under hostile load, against a real gateway with the real MiniLM model: OpenAI's
 * per-request limits refused with a 400 before the model runs, a big batch that leaves /health
 * and a one-input request their answers, a 3.9 MB input refused without holding the event loop,
 * and token ids taken as OpenAI tokens — decoded for the local model, passed on to a vendor.
 * The weights come from `make setup` (see local-embeddings.test.ts); without them this fails.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100kBase from 'js-tiktoken/ranks/cl100k_base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Adapter } from '../../adapters/spec/index.js';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

const MODELS_DIR = process.env.SLUICE_MODELS_DIR ?? 'models';
const MODEL_DIR = join(MODELS_DIR, 'embeddings', 'all-MiniLM-L6-v2');
const LOCAL = 'all-minilm-l6-v2';
const TIGHT = 'minilm-tight';

let sluice: TestGateway;
/** Calls that reached the local adapter (it counts and refuses; the model runs only after). */
let localCalls = 0;

beforeAll(async () => {
  if (!existsSync(join(MODEL_DIR, 'model.onnx'))) throw new Error(`${MODEL_DIR}/model.onnx is missing: run make setup (or the local-embeddings test, which converts it)`);
  sluice = await startTestGateway((raw) => {
    raw.paths.models_dir = MODELS_DIR;
    raw.backends['local-embeddings'] = { type: 'onnx', requires_key: false, options: { model_dir: 'embeddings/all-MiniLM-L6-v2' } };
    raw.backends['local-tight'] = {
      type: 'onnx',
      requires_key: false,
      options: { model_dir: 'embeddings/all-MiniLM-L6-v2', max_inputs: 3, max_input_tokens: 20, max_request_tokens: 30 },
    };
    // A vendor fallback: a refusal must stop here, never go to OpenAI instead.
    raw.models.push(
      { id: LOCAL, backend: 'local-embeddings', capabilities: ['embed'], fallback: ['text-embedding-3-small'] },
      { id: TIGHT, backend: 'local-tight', capabilities: ['embed'], fallback: ['text-embedding-3-small'] },
    );
  });
  await sluice.gateway.ready;
  const adapter = sluice.gateway.adapters.get('local-embeddings') as Adapter;
  const embed = adapter.embed!.bind(adapter);
  adapter.embed = (request, call) => {
    localCalls++;
    return embed(request, call);
  };
});
afterAll(() => sluice?.close());

const vendorEmbeddings = () => sluice.openai.calls('/v1/embeddings');

async function post(body: object): Promise<{ status: number; json: any; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${sluice.baseURL}/embeddings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${sluice.apiKey}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json(), ms: performance.now() - started };
}

/**
 * Posts `input` to the local model and expects the 400 on `input` a refused request gets, with no
 * vendor call; says how long the refusal took and how many local model calls happened meanwhile.
 */
async function refusedInput(input: unknown, message: string | RegExp): Promise<{ ms: number; localCalls: number }> {
  const [callsBefore, vendorBefore] = [localCalls, vendorEmbeddings()];
  const { status, json, ms } = await post({ model: LOCAL, input });
  expect(status).toBe(400);
  expect(json.error).toMatchObject({ type: 'invalid_request_error', param: 'input' });
  if (typeof message === 'string') expect(json.error.message).toContain(message);
  else expect(json.error.message).toMatch(message);
  expect(vendorEmbeddings()).toBe(vendorBefore);
  return { ms, localCalls: localCalls - callsBefore };
}

async function healthMs(): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${sluice.origin}/health`);
  await response.json();
  expect(response.status).toBe(200);
  return performance.now() - started;
}

const WORDS = 'river stone maple quiet lantern orbit velvet harbor signal meadow copper thunder pillow garden violet echo'.split(' ');
/** `count` words, varied by `seed`: about one MiniLM token per word. */
const words = (count: number, seed: number) => Array.from({ length: count }, (_, index) => WORDS[(seed * 7 + index * 3 + (index >> 4)) % WORDS.length]).join(' ');
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("OpenAI's per-request limits, refused before the model runs", () => {
  // Were these inputs run, the model would take well over 15 s on 2 cores (~0.55 s per 32 inputs
  // of 256 tokens). Counting them is tokenising them, ~1 s per MB; the bound leaves room for a
  // loaded machine and still could not be met with the model run.
  const REFUSED_WITHIN_MS = 8_000;

  it('refuses 2,049 inputs with 400 on input, before the local model is called', async () => {
    const refused = await refusedInput(Array.from({ length: 2049 }, (_, index) => `input ${index}`), '2049 inputs; at most 2048 inputs per request');
    expect(refused.localCalls).toBe(0);
  });

  it('refuses one input over 8,192 tokens, the last of 1,000, with 400 naming it', async () => {
    const input = [...Array.from({ length: 999 }, (_, index) => words(200, index)), words(9_000, 1)];
    const refused = await refusedInput(input, /^Input 999 is too long: at least \d+ tokens .*'all-minilm-l6-v2' takes at most 8192 tokens per input/);
    expect(refused.ms).toBeLessThan(REFUSED_WITHIN_MS);
  });

  it('refuses 1,300 inputs of 250 words, each legal, over 300,000 tokens in all, with 400', async () => {
    const input = Array.from({ length: 1_300 }, (_, index) => words(250, index));
    const refused = await refusedInput(input, /^Too many tokens in one request: at least \d+ tokens in all .*at most 300000 tokens per request/);
    expect(refused.ms).toBeLessThan(REFUSED_WITHIN_MS);
  });

  it("takes each backend's own limits from its options", async () => {
    const tooMany = await post({ model: TIGHT, input: ['a', 'b', 'c', 'd'] });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error.message).toContain("Too many inputs: 4; 'minilm-tight' takes at most 3 inputs per request");
    const tooLong = await post({ model: TIGHT, input: ['short', words(21, 0)] });
    expect(tooLong.json.error.message).toContain("Input 1 is too long: at least 21 tokens (counted by the model's own tokenizer); 'minilm-tight' takes at most 20 tokens per input");
    const tooMuch = await post({ model: TIGHT, input: [words(15, 0), words(16, 1)] });
    expect(tooMuch.json.error.message).toContain('at least 31 tokens in all');
    const fits = await post({ model: TIGHT, input: [words(15, 0), words(15, 1)], encoding_format: 'float' });
    expect(fits.status).toBe(200);
    expect(fits.json.data).toHaveLength(2);
  });
});

describe('a big batch leaves the gateway and small requests their answers', () => {
  it('answers /health under 100 ms throughout 512 inputs of ~200 words, and a one-input request in under 2 s, before the batch', async () => {
    const input = Array.from({ length: 512 }, (_, index) => words(200, index));
    let isBatchDone = false;
    const batch = post({ model: LOCAL, input, encoding_format: 'float' }).finally(() => (isBatchDone = true));
    const healthSamples: number[] = [];
    let small: Promise<{ status: number; json: any; ms: number; isBatchDoneAfter: boolean }> | undefined;
    while (!isBatchDone) {
      healthSamples.push(await healthMs());
      // Two seconds in: tokenising (~0.6 s) is over and the model is running the batch, 8 inputs a run.
      if (healthSamples.length === 3) small = post({ model: LOCAL, input: 'one small request', encoding_format: 'float' }).then((answer) => ({ ...answer, isBatchDoneAfter: isBatchDone }));
      // Spread over the batch: each sample is a chance for a stall on the gateway's thread to show.
      await pause(1_000);
    }
    const [big, one] = await Promise.all([batch, small!]);
    expect(big.status).toBe(200);
    expect(big.json.data).toHaveLength(512);
    expect(healthSamples.length).toBeGreaterThanOrEqual(10);
    expect(Math.max(...healthSamples)).toBeLessThan(100);
    expect(one.status).toBe(200);
    expect(one.json.data[0].embedding).toHaveLength(384);
    expect(one.ms).toBeLessThan(2_000);
    // Served beside the batch's slices, not after all of them.
    expect(one.isBatchDoneAfter).toBe(false);
    // ~30 s alone on 2 cores (runs of up to 2,048 padded tokens), longer beside other test files.
  }, 180_000);

  /**
   * /health, sampled while `work` is in flight, and the longest the event loop was held meanwhile
   * (the gateway runs in this process, so its loop is this one).
   */
  async function healthWhile<T>(work: Promise<T>): Promise<{ result: T; healthSamples: number[]; loopMaxMs: number }> {
    let isDone = false;
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    try {
      const tracked = work.finally(() => (isDone = true));
      const healthSamples = [await healthMs()];
      while (!isDone) {
        await pause(100);
        healthSamples.push(await healthMs());
      }
      return { result: await tracked, healthSamples, loopMaxMs: delay.max / 1e6 };
    } finally {
      delay.disable();
    }
  }

  // Before: a 3.9 MB input held the event loop 1.5 s. What is left on it is parsing the body:
  // ~115 ms of it is src/server/json-body.ts's shape check (one charCodeAt pass over 3.9 MB),
  // the rest JSON.parse and the copy to the tokenizer's thread; the bound leaves room for both
  // on a loaded machine, and none for tokenising on this thread (~1 s per MB).
  const BODY_OF_3_9_MB_MS = 400;

  it('refuses a 3.9 MB input of prose (over 8,192 tokens) with 400, /health answering meanwhile', async () => {
    const text = words(585_000, 3);
    expect(text.length).toBeGreaterThan(3_900_000); // and its body under server.json_limit_bytes (4 MiB)
    const { result, healthSamples, loopMaxMs } = await healthWhile(post({ model: LOCAL, input: text }));
    expect(result.status).toBe(400);
    expect(result.json.error).toMatchObject({ type: 'invalid_request_error', param: 'input' });
    expect(result.json.error.message).toMatch(/^Input 0 is too long: at least \d+ tokens/);
    expect(Math.max(...healthSamples)).toBeLessThan(BODY_OF_3_9_MB_MS);
    expect(loopMaxMs).toBeLessThan(BODY_OF_3_9_MB_MS);
  });

  it('embeds a 3.9 MB input the limit allows (2 kB words, one [UNK] token each), cut to 256 tokens, read whole off the event loop', async () => {
    const text = Array.from({ length: 1_950 }, (_, index) => `${index}`.padEnd(2_000, 'q')).join(' ');
    expect(text.length).toBeGreaterThan(3_900_000);
    const { result, healthSamples, loopMaxMs } = await healthWhile(post({ model: LOCAL, input: text, encoding_format: 'float' }));
    expect(result.status).toBe(200);
    expect(result.json.data[0].embedding).toHaveLength(384);
    expect(result.json.usage.prompt_tokens).toBe(256);
    // Tokenising all 3.9 MB takes its thread over a second: /health was asked meanwhile.
    expect(healthSamples.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...healthSamples)).toBeLessThan(BODY_OF_3_9_MB_MS);
    expect(loopMaxMs).toBeLessThan(BODY_OF_3_9_MB_MS);
  });
});

describe('token ids are OpenAI tokens', () => {
  let cl100k: Tiktoken;
  beforeAll(() => {
    cl100k = new Tiktoken(cl100kBase);
  });

  it('refuses an id cl100k_base lacks with 400 naming it, no model work and no vendor fallback', async () => {
    const refused = await refusedInput([cl100k.encode('fine'), [...cl100k.encode('then'), 100_300]], 'Invalid token id 100300 at token 1 of input 1');
    expect(refused.localCalls).toBe(0);
  });

  it('hands a vendor the ids unchanged', async () => {
    const ids = [cl100k.encode('Token ids go to OpenAI as they are.'), [100_300, 5]];
    const { status } = await post({ model: 'text-embedding-3-small', input: ids });
    expect(status).toBe(200);
    const sent = sluice.openai.requests.filter((request) => request.path.endsWith('/embeddings')).at(-1)!;
    expect((sent.body as { input: unknown }).input).toEqual(ids);
  });

  it('counts OpenAI limits in the client’s ids, not in the longer split of the decoded text', async () => {
    // 8,000 cl100k ids, under OpenAI's 8,192; MiniLM's WordPiece splits the same text into more.
    const text = Array.from({ length: 2_000 }, (_, index) => `unbelievably ${index}x`).join(' ');
    const ids = cl100k.encode(text).slice(0, 8_000);
    expect(ids).toHaveLength(8_000);
    const asText = await post({ model: LOCAL, input: cl100k.decode(ids) });
    expect(asText.status).toBe(400);
    const asIds = await post({ model: LOCAL, input: ids });
    expect(asIds.status).toBe(200);
    const over = await post({ model: LOCAL, input: cl100k.encode(`${text} ${text}`).slice(0, 8_193) });
    expect(over.status).toBe(400);
    expect(over.json.error.message).toContain('Input 0 is too long: 8193 token ids');
  });
});
