/**
 * The response cache through the gateway, as a client sees it: the real local embedding model
 * (all-MiniLM-L6-v2 on onnxruntime), the real near-miss guard, the real inference log on PGlite;
 * only the vendor is a loopback fake of OpenAI's wire. The fake answers "You said: <question>", so
 * an answer served from the cache shows which question it was made for.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sha256Hex } from '../../src/auth/key-store.js';
import { openStore, type SluiceStore } from '../../src/store/open-store.js';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

const MODELS_DIR = process.env.SLUICE_MODELS_DIR ?? 'models';
const MASTER = 'sk-master-cache-0123';
const KEYS = { alpha: 'sk-alpha-secret', beta: 'sk-beta-secret', private: 'sk-private-secret' } as const;

let sluice: TestGateway;
let store: SluiceStore;
const clients = {} as Record<keyof typeof KEYS, OpenAI>;

beforeAll(async () => {
  store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'sluice-cache-log-')), inferenceLog: { flushIntervalMs: 20 } });
  sluice = await startTestGateway(
    (raw) => {
      raw.paths.models_dir = MODELS_DIR;
      raw.backends['local-embeddings'] = { type: 'onnx', requires_key: false, options: { model_dir: 'embeddings/all-MiniLM-L6-v2' } };
      raw.models.push({ id: 'all-minilm-l6-v2', backend: 'local-embeddings', capabilities: ['embed'] });
      raw.cache = { enabled: true };
      raw.auth = {
        master_key: MASTER,
        keys: [
          { name: 'alpha', key_sha256: sha256Hex(KEYS.alpha) },
          { name: 'beta', key_sha256: sha256Hex(KEYS.beta) },
          { name: 'private', key_sha256: sha256Hex(KEYS.private), cache: false },
        ],
      };
    },
    { inferenceLog: store.inferenceLog, store },
  );
  await sluice.gateway.ready;
  for (const name of Object.keys(KEYS) as (keyof typeof KEYS)[]) clients[name] = new OpenAI({ baseURL: sluice.baseURL, apiKey: KEYS[name], maxRetries: 0 });
}, 60_000);
afterAll(() => sluice.close());

type Params = Omit<OpenAI.ChatCompletionCreateParamsNonStreaming, 'model' | 'messages'>;
const vendorCalls = () => sluice.openai.calls('/v1/chat/completions');

/** One question, answered; what the client sees of it, and whether the vendor was called for it. */
async function ask(content: string, { client = clients.alpha, system, headers, ...params }: Params & { client?: OpenAI; system?: string; headers?: Record<string, string> } = {}) {
  const before = vendorCalls();
  const messages: OpenAI.ChatCompletionMessageParam[] = [...(system ? [{ role: 'system' as const, content: system }] : []), { role: 'user', content }];
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, ...params }, { headers }).withResponse();
  return {
    text: data.choices[0].message.content,
    id: data.id,
    cache: response.headers.get('x-sluice-cache'),
    route: response.headers.get('x-sluice-route'),
    cost: response.headers.get('x-sluice-cost-usd'),
    requestId: response.headers.get('x-sluice-request-id')!,
    calledVendor: vendorCalls() > before,
  };
}

describe('exact repeats', () => {
  it('are answered from the cache at no cost, with the answer first given', async () => {
    const first = await ask('What is the boiling point of water at sea level?');
    expect(first).toMatchObject({ cache: 'miss', route: 'openai', calledVendor: true });
    const again = await ask('What is the boiling point of water at sea level?');
    expect(again).toMatchObject({ cache: 'exact', route: 'cache', cost: '0', calledVendor: false, text: first.text });
    expect(again.id).not.toBe(first.id);
  });

  it('ignore differences of spacing only', async () => {
    await ask('Name the largest planet in the solar system.');
    expect(await ask('  Name the largest   planet in the solar system. ')).toMatchObject({ cache: 'exact', calledVendor: false });
  });
});

describe('paraphrases and near-misses', () => {
  it('a paraphrase is served the cached answer', async () => {
    const first = await ask('What is the capital of Australia?');
    const paraphrase = await ask("what's the capital of Australia");
    expect(paraphrase).toMatchObject({ cache: 'semantic', route: 'cache', calledVendor: false, text: first.text });
  });

  it.each([
    ['another number', 'What is 15% of 80?', 'What is 15% of 90?'],
    ['another name', 'What is the population of Spain?', 'What is the population of Portugal?'],
    ['a negation', 'Which fruits are safe for dogs to eat?', 'Which fruits are not safe for dogs to eat?'],
    ['a swapped comparison', 'Convert 10 kilometres to miles', 'Convert 10 miles to kilometres'],
    ['another date', 'What day of the week was 4 July 1976?', 'What day of the week was 4 July 1977?'],
  ])('a near-miss (%s) reaches the model and gets its own answer', async (_kind, cached, asked) => {
    await ask(cached);
    const near = await ask(asked);
    expect(near).toMatchObject({ cache: 'miss', calledVendor: true, text: `You said: ${asked}` });
  });
});

describe('questions about a pasted text', () => {
  const transcript = [
    'Support chat, 3 June.',
    'Customer: Hi, my parcel with booking reference BK-20931 was due on Monday and it has not arrived. I need it for a birthday on Friday.',
    'Agent: I am sorry about that, Julia. I can see it is held at the Leeds depot. I can send it by express for free, or refund the shipping.',
    'Customer: Express please, thank you, that is really kind.',
    'Agent: Done: it will arrive on Thursday before noon. Anything else?',
    'Customer: No, that is all. Have a good day.',
  ].join('\n');

  it('the same text with another question about it is another question', async () => {
    await ask(`${transcript}\n\nWhat is the booking reference? Just the reference.`);
    const other = `${transcript}\n\nHow did the customer feel at the end of the chat? Answer positive, negative or neutral.`;
    expect(await ask(other)).toMatchObject({ cache: 'miss', calledVendor: true, text: `You said: ${other}` });
  });

  it('the same text with the question reworded is still answered from the cache', async () => {
    const first = await ask(`${transcript}\n\nWhen will the parcel arrive?`);
    expect(await ask(`${transcript}\n\nwhen will the parcel arrive`)).toMatchObject({ cache: 'semantic', calledVendor: false, text: first.text });
  });
});

describe('isolation', () => {
  it('one tenant never gets another tenant’s answer', async () => {
    await ask('What is our refund policy for annual plans?', { client: clients.alpha });
    expect(await ask('What is our refund policy for annual plans?', { client: clients.beta })).toMatchObject({ cache: 'miss', calledVendor: true });
  });

  it('the same question under another system prompt is another question', async () => {
    await ask('Describe the product in one line.', { system: 'You write for Acme Rockets.' });
    expect(await ask('Describe the product in one line.', { system: 'You write for Bolt Bikes.' })).toMatchObject({ cache: 'miss', calledVendor: true });
    expect(await ask('Describe the product in one line.', { system: 'You write for Acme Rockets.' })).toMatchObject({ cache: 'exact', calledVendor: false });
  });

  it('a key with the cache switched off neither reads nor fills it', async () => {
    await ask('How many legs does a spider have?', { client: clients.private });
    expect(await ask('How many legs does a spider have?', { client: clients.private })).toMatchObject({ cache: 'bypass', calledVendor: true });
  });
});

describe('when the cache is not used', () => {
  it.each([
    ['x-sluice-cache: bypass', { 'x-sluice-cache': 'bypass' }, ['necessary', 'rhythm']],
    ['cache-control: no-store', { 'cache-control': 'no-store' }, ['separate', 'library']],
  ])('%s: neither read nor written', async (_name, headers, [kept, skipped]) => {
    const question = `How many letters are in the word ${kept}?`;
    await ask(question);
    expect(await ask(question, { headers })).toMatchObject({ cache: 'bypass', calledVendor: true });
    const fresh = `How many vowels are in the word ${skipped}?`;
    await ask(fresh, { headers });
    expect(await ask(fresh)).toMatchObject({ cache: 'miss', calledVendor: true });
  });

  it('cache-control: no-cache fetches a fresh answer and keeps it for the next caller', async () => {
    const question = 'List three primary colours.';
    await ask(question);
    expect(await ask(question, { headers: { 'cache-control': 'no-cache' } })).toMatchObject({ cache: 'miss', calledVendor: true });
    expect(await ask(question)).toMatchObject({ cache: 'exact', calledVendor: false });
  });

  it('a hot temperature, n > 1 or tools: every call reaches the model', async () => {
    for (let round = 0; round < 2; round++) {
      expect(await ask('Write a haiku about rain.', { temperature: 1.3 })).toMatchObject({ cache: 'bypass', calledVendor: true });
      expect(await ask('Suggest a name for a cat.', { n: 2 })).toMatchObject({ cache: 'bypass', calledVendor: true });
      const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'send_email', parameters: { type: 'object', properties: {} } } }];
      expect(await ask('Send the weekly report.', { tools })).toMatchObject({ cache: 'bypass', calledVendor: true });
    }
  });

  it('a truncated answer is not kept', async () => {
    const question = 'Explain how a bicycle gear system works in detail.';
    const cut = await ask(question, { max_tokens: 3 });
    expect(cut.text!.split(' ')).toHaveLength(3);
    expect(await ask(question, { max_tokens: 3 })).toMatchObject({ cache: 'miss', calledVendor: true });
  });

  it('an error is not kept', async () => {
    for (let round = 0; round < 2; round++) {
      const error = await clients.alpha.chat.completions.create({ model: 'only-503', messages: [{ role: 'user', content: 'Is anyone there?' }] }).catch((caught) => caught);
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect(error.status).toBe(503);
    }
  });
});

describe('streams', () => {
  const streamed = async (content: string) => {
    const response = await fetch(`${sluice.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.alpha}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content }] }),
    });
    const body = await response.text();
    const events = body.split('\n\n').filter((event) => event.startsWith('data: '));
    return { cache: response.headers.get('x-sluice-cache'), type: response.headers.get('content-type'), body, events };
  };

  /** Each chunk's keys and value types, with the text left out: what a client's parser relies on. */
  const shapeOf = (event: string): string => {
    if (event === 'data: [DONE]') return '[DONE]';
    const describe = (value: unknown): unknown =>
      value === null ? 'null' : Array.isArray(value) ? value.map(describe) : typeof value === 'object' ? Object.fromEntries(Object.entries(value as object).sort().map(([key, inner]) => [key, describe(inner)])) : typeof value;
    return JSON.stringify(describe(JSON.parse(event.slice('data: '.length))));
  };
  const distinctShapes = (events: string[]) => events.map(shapeOf).filter((shape, index, all) => shape !== all[index - 1]);

  it('a streamed answer is kept, and its hit is replayed in the shape of a live stream', async () => {
    const live = await streamed('Give me a fun fact about octopuses.');
    expect(live.cache).toBe('miss');
    const hit = await streamed('Give me a fun fact about octopuses.');
    expect(hit.cache).toBe('exact');
    expect(hit.type).toBe(live.type);
    expect(distinctShapes(hit.events)).toEqual(distinctShapes(live.events));
    const text = (events: string[]) => events.filter((event) => event !== 'data: [DONE]').map((event) => JSON.parse(event.slice(6)).choices[0]?.delta?.content ?? '').join('');
    expect(text(hit.events)).toBe(text(live.events));
    expect(hit.events.at(-1)).toBe('data: [DONE]');
  });
});

describe('purge and the log', () => {
  const admin = (query = '') => fetch(`${sluice.origin}/admin/cache${query}`, { method: 'DELETE', headers: { authorization: `Bearer ${MASTER}` } });

  it('a hit is one attempt row naming the answer it served', async () => {
    const first = await ask('How many bones are in the adult human body?');
    const hit = await ask('How many bones are in the adult human body?');
    const rows = await vi.waitFor(
      async () => {
        await store.inferenceLog.flush();
        const { rows } = await store.database.query<{ outcome: string; route: string; cost: string; cache_entry_id: string | null }>(
          'select outcome, route, cost::text as cost, cache_entry_id from model_inferences where request_id = $1',
          [hit.requestId],
        );
        expect(rows).toHaveLength(1);
        return rows;
      },
      { timeout: 5_000, interval: 50 },
    );
    expect(rows[0]).toMatchObject({ outcome: 'cache-hit', route: 'cache', cache_entry_id: first.requestId });
    expect(Number(rows[0].cost)).toBe(0);
  });

  it('purges one entry, one tenant, or everything', async () => {
    const kept = await ask('What colour is a ripe banana?');
    await ask('What colour is a ripe banana?', { client: clients.beta });
    const one = await admin(`?id=${kept.requestId}`);
    expect(await one.json()).toMatchObject({ purged: 1 });
    expect(await ask('What colour is a ripe banana?')).toMatchObject({ cache: 'miss', calledVendor: true });
    expect(await ask('What colour is a ripe banana?', { client: clients.beta })).toMatchObject({ cache: 'exact' });

    expect(await (await admin('?tenant=beta')).json()).toMatchObject({ purged: expect.any(Number) });
    expect(await ask('What colour is a ripe banana?', { client: clients.beta })).toMatchObject({ cache: 'miss' });
    expect(await ask('What colour is a ripe banana?')).toMatchObject({ cache: 'exact' });

    expect((await admin()).status).toBe(200);
    expect(await ask('What colour is a ripe banana?')).toMatchObject({ cache: 'miss', calledVendor: true });
  });

  it('the purge route needs the master key', async () => {
    const response = await fetch(`${sluice.origin}/admin/cache`, { method: 'DELETE', headers: { authorization: `Bearer ${KEYS.alpha}` } });
    expect(response.status).toBe(401);
  });
});
