// Hostile requests against the passthrough: a virtual key must not reach, through the paths Sluice
// forwards, what it may not reach through the paths Sluice serves — other models, the organisation's
// other endpoints, another org or project, the upstream's paths outside /v1, or spend past its budget.
import { request as httpRequest } from 'node:http';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/auth/key-store.js';
import { startTestGateway, testModels, type TestGateway } from '../support/gateway-harness.js';

const MASTER = 'sk-master-hostile-0123';
/** May use gpt-4o-mini only, and every passthrough path. */
const MINI_EVERYWHERE = 'sk-mini-everywhere';
/** May use gpt-4o-mini only, and no passthrough path (the default). */
const MINI_NO_PASSTHROUGH = 'sk-mini-no-passthrough';
/** Every model and passthrough path, but a monthly budget. */
const BUDGETED = 'sk-budgeted';

// Prices high enough that one small call moves the ledger by whole micro-dollars.
const MINI_PRICE = { input_per_1m: 300, output_per_1m: 1200 };

let sluice: TestGateway;

beforeAll(async () => {
  sluice = await startTestGateway((raw) => {
    raw.models = testModels().map((model) => (model.id === 'gpt-4o-mini' ? { ...model, price: MINI_PRICE } : model));
    raw.backends.openai.options = { organization: 'org-sluice', project: 'proj_sluice' };
    raw.auth = {
      master_key: MASTER,
      keys: [
        { name: 'mini-everywhere', key_sha256: sha256Hex(MINI_EVERYWHERE), allowed_models: ['gpt-4o-mini'], passthrough_paths: ['/v1'] },
        { name: 'mini-no-passthrough', key_sha256: sha256Hex(MINI_NO_PASSTHROUGH), allowed_models: ['gpt-4o-mini'] },
        { name: 'budgeted', key_sha256: sha256Hex(BUDGETED), monthly_budget_usd: 50, passthrough_paths: ['/v1'] },
      ],
    };
  });
});
afterAll(() => sluice.close());

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends the path byte for byte: fetch and the SDK would resolve `..` before it left the client. */
function send(method: string, path: string, options: { key?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<RawAnswer> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const { hostname, port } = new URL(sluice.origin);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        hostname,
        port,
        method,
        path,
        headers: {
          ...(options.key && { authorization: `Bearer ${options.key}` }),
          ...(body !== undefined && { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }),
          ...options.headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function errorOf(answer: RawAnswer): { type: string; code: string | null; message: string; param: string | null } {
  return (JSON.parse(answer.body) as { error: { type: string; code: string | null; message: string; param: string | null } }).error;
}

async function budgetGauge(kind: 'spent' | 'held'): Promise<number> {
  const text = await (await fetch(`${sluice.origin}/metrics`)).text();
  const line = text.split('\n').find((row) => row.startsWith(`sluice_budget_usd{scope="global",kind="${kind}"}`));
  return Number(line?.split(' ').at(-1));
}

/** The cost the gateway must have settled for a usage at gpt-4o-mini's test price, as the micro-dollar ledger keeps it. */
function miniCostUsd(inputTokens: number, outputTokens: number): number {
  return Math.round((inputTokens * MINI_PRICE.input_per_1m + outputTokens * MINI_PRICE.output_per_1m)) / 1_000_000;
}

const client = (apiKey: string) => new OpenAI({ baseURL: sluice.baseURL, apiKey, maxRetries: 0 });

// What a key limited to gpt-4o-mini sent and got forwarded, with the organisation's key, before; the
// last column: refused even when the key is granted every passthrough path (its model is checked).
const restrictedCalls: [string, string, unknown, boolean][] = [
  ['POST', '/v1/responses', { model: 'gpt-4o', input: 'hi' }, true],
  ['POST', '/v1/completions', { model: 'gpt-4o', prompt: 'hi' }, true],
  ['GET', '/v1/chat/completions', undefined, false],
  ['POST', '/v1/fine_tuning/jobs', { model: 'gpt-4o-2024-08-06', training_file: 'file-abc' }, true],
  ['POST', '/v1/images/generations', { prompt: 'a cat' }, true], // no model: the vendor would pick one
  ['DELETE', '/v1/models/ft:gpt-4o-mini:acme::abc123', undefined, true],
  ['POST', '/v1/responses', { model: 'gpt-4o-mini', input: 'hi', tools: [{ type: 'image_generation', model: 'gpt-image-1' }] }, true],
  ['POST', '/v1/batches', { input_file_id: 'file-abc', endpoint: '/v1/chat/completions', completion_window: '24h' }, true],
];

describe('a key limited to gpt-4o-mini', () => {
  it.each(restrictedCalls)('is refused %s %s with a 403 and the upstream sees nothing', async (method, path, body, isRefusedWithGrant) => {
    for (const key of isRefusedWithGrant ? [MINI_EVERYWHERE, MINI_NO_PASSTHROUGH] : [MINI_NO_PASSTHROUGH]) {
      const before = sluice.openai.requests.length;
      const answer = await send(method, path, { key, body });
      expect(answer.status, answer.body).toBe(403);
      expect(errorOf(answer).type).toBe('permission_error');
      expect(sluice.openai.requests.length).toBe(before);
    }
  });

  it('without a passthrough grant, is told which field grants it', async () => {
    const answer = await send('POST', '/v1/responses', { key: MINI_NO_PASSTHROUGH, body: { model: 'gpt-4o-mini', input: 'hi' } });
    expect(answer.status).toBe(403);
    expect(errorOf(answer)).toMatchObject({ code: 'passthrough_not_allowed', message: expect.stringContaining('passthrough_paths') });
  });

  it('with a grant, uses its own model through /v1/responses and the budget is settled from the answer’s usage', async () => {
    const [spentBefore, upstreamBefore] = [await budgetGauge('spent'), sluice.openai.calls('/v1/responses')];
    const answer = await client(MINI_EVERYWHERE).responses.create({ model: 'gpt-4o-mini', input: 'count the words in this short sentence please' });
    expect(answer.output_text).toContain('You said');
    expect(sluice.openai.calls('/v1/responses')).toBe(upstreamBefore + 1);
    const cost = miniCostUsd(answer.usage!.input_tokens, answer.usage!.output_tokens);
    expect(cost).toBeGreaterThan(0);
    expect(await budgetGauge('spent')).toBeCloseTo(spentBefore + cost, 9);
    expect(await budgetGauge('held')).toBe(0);
  });

  it('a streamed /v1/responses answer is settled from its response.completed event', async () => {
    const spentBefore = await budgetGauge('spent');
    const stream = await client(MINI_EVERYWHERE).responses.create({ model: 'gpt-4o-mini', input: 'stream these few words back', stream: true });
    let usage: { input_tokens: number; output_tokens: number } | undefined;
    for await (const event of stream) if (event.type === 'response.completed') usage = event.response.usage ?? undefined;
    expect(usage).toBeDefined();
    expect(await budgetGauge('spent')).toBeCloseTo(spentBefore + miniCostUsd(usage!.input_tokens, usage!.output_tokens), 9);
    expect(await budgetGauge('held')).toBe(0);
  });

  it('/v1/completions is settled from the answer’s usage', async () => {
    const spentBefore = await budgetGauge('spent');
    const answer = await client(MINI_EVERYWHERE).completions.create({ model: 'gpt-4o-mini', prompt: 'three little words', max_tokens: 8 });
    expect(answer.choices[0].text).toContain('You said');
    expect(await budgetGauge('spent')).toBeCloseTo(spentBefore + miniCostUsd(answer.usage!.prompt_tokens, answer.usage!.completion_tokens), 9);
  });

  it('an upstream refusal releases the hold: nothing is spent', async () => {
    const spentBefore = await budgetGauge('spent');
    const answer = await send('POST', '/v1/completions', { key: MINI_EVERYWHERE, body: { model: 'gpt-4o-mini' } }); // no prompt: the vendor's 400
    expect(answer.status).toBe(400);
    expect(await budgetGauge('spent')).toBe(spentBefore);
    expect(await budgetGauge('held')).toBe(0);
  });
});

describe('multipart bodies, which Sluice forwards unread', () => {
  it('a model-limited key may upload a file, which names no model and costs nothing', async () => {
    const file = await toFile(Buffer.from('{"prompt":"hi"}\n'), 'data.jsonl');
    const created = await client(MINI_EVERYWHERE).files.create({ file, purpose: 'batch' });
    expect(created).toMatchObject({ object: 'file', filename: 'data.jsonl' });
    expect(sluice.openai.requests.at(-1)!.headers.authorization).toBe(`Bearer ${sluice.openai.apiKey}`);
  });

  it('a model-limited key may not send a multipart body whose model Sluice cannot check', async () => {
    const before = sluice.openai.requests.length;
    const file = await toFile(Buffer.from('not really audio'), 'speech.wav');
    const refused = await client(MINI_EVERYWHERE).audio.translations.create({ file, model: 'gpt-4o-mini' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((refused as InstanceType<typeof OpenAI.PermissionDeniedError>).message).toMatch(/multipart/);
    expect(sluice.openai.requests.length).toBe(before);
  });
});

describe('a key with a budget', () => {
  it.each([
    ['POST', '/v1/images/generations', { model: 'dall-e-3', prompt: 'a cat' }, /billed by the vendor/],
    ['POST', '/v1/fine_tuning/jobs', { model: 'gpt-4o-mini', training_file: 'file-abc' }, /billed by the vendor/],
    ['POST', '/v1/responses', { model: 'gpt-4o-mini', input: 'hi', previous_response_id: 'resp_123' }, /previous_response_id/],
    ['POST', '/v1/responses', { model: 'gpt-4o-mini', input: 'hi', tools: [{ type: 'web_search' }] }, /web_search/],
    ['POST', '/v1/responses', { model: 'o9-unconfigured', input: 'hi' }, /not configured/],
  ])('may not %s %s, whose cost cannot be bounded', async (method, path, body, why) => {
    const before = sluice.openai.requests.length;
    const answer = await send(method, path, { key: BUDGETED, body });
    expect(answer.status, answer.body).toBe(403);
    expect(errorOf(answer)).toMatchObject({ type: 'permission_error', code: 'passthrough_cost_unbounded', message: expect.stringMatching(why) });
    expect(sluice.openai.requests.length).toBe(before);
  });

  it('may make a priced call, and reads and moderations, which cost nothing', async () => {
    const budgeted = client(BUDGETED);
    const answer = await budgeted.responses.create({ model: 'gpt-4o-mini', input: 'hello', max_output_tokens: 50 });
    expect(answer.status).toBe('completed');
    const moderation = await budgeted.moderations.create({ model: 'omni-moderation-latest', input: 'a quiet afternoon' });
    expect(moderation.results[0].flagged).toBe(false);
    const files = await send('GET', '/v1/files', { key: BUDGETED });
    expect(files.status).toBe(200);
  });
});

describe('paths are read once, and refused when they could mean something else upstream', () => {
  it.each(['/v1/../admin/keys', '/v1/%2e%2e/admin/keys', '/v1/%2E%2E/admin/keys', '/v1/..%5cadmin%5ckeys', '/v1/..\\admin\\keys', '/v1/files/%2f..%2f..%2fadmin', '/v1/files/%252e%252e/x', '/v1/files/./x', '/v1//admin'])(
    '%s is a 400 and nothing goes upstream, even for the master key',
    async (path) => {
      const before = sluice.openai.requests.length;
      const answer = await send('GET', path, { key: MASTER });
      expect(answer.status, answer.body).toBe(400);
      expect(errorOf(answer)).toMatchObject({ type: 'invalid_request_error', code: 'invalid_path' });
      expect(sluice.openai.requests.length).toBe(before);
    },
  );

  it('an encoded but harmless path is forwarded decoded', async () => {
    const answer = await send('GET', '/v1/%66iles', { key: MASTER });
    expect(answer.status).toBe(200);
    expect(sluice.openai.requests.at(-1)!.path).toBe('/v1/files');
  });
});

describe('headers', () => {
  it('only allowed headers reach the upstream; organisation and project come from config', async () => {
    const answer = await send('POST', '/v1/moderations', {
      key: MASTER,
      body: { input: 'a quiet afternoon' },
      headers: {
        'OpenAI-Organization': 'org-someone-else',
        'OpenAI-Project': 'proj_someone_else',
        Cookie: 'session=stolen',
        'Proxy-Authorization': 'Basic c29tZW9uZTpzZWNyZXQ=',
        Forwarded: 'for=10.0.0.1;host=internal.example',
        'X-Forwarded-For': '10.0.0.1',
        'X-Forwarded-Host': 'internal.example',
        'X-Real-IP': '10.0.0.1',
        'X-Api-Key': MASTER,
        'OpenAI-Beta': 'assistants=v2',
        'Idempotency-Key': 'retry-42',
      },
    });
    expect(answer.status, answer.body).toBe(200);
    const seen = sluice.openai.requests.at(-1)!;
    expect(seen.path).toBe('/v1/moderations');
    for (const name of ['cookie', 'proxy-authorization', 'forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip', 'x-api-key']) expect(seen.headers[name], name).toBeUndefined();
    expect(seen.headers).toMatchObject({
      authorization: `Bearer ${sluice.openai.apiKey}`,
      'openai-organization': 'org-sluice',
      'openai-project': 'proj_sluice',
      'openai-beta': 'assistants=v2',
      'idempotency-key': 'retry-42',
    });
    expect(JSON.stringify(seen.headers)).not.toContain(MASTER);
  });

  it('the vendor refusing our key is a 502, not a 401 that would make the caller think its own key is wrong', async () => {
    const answer = await send('POST', '/v1/responses', { key: MASTER, body: { model: 'fake-401', input: 'hi' } });
    expect(answer.status).toBe(502);
    expect(errorOf(answer)).toMatchObject({ type: 'upstream_error', code: 'upstream_rejected' });
  });

  it('the upstream’s cookies, organisation and origin headers do not reach the caller', async () => {
    const answer = await send('POST', '/v1/moderations', { key: MASTER, body: { input: 'hello' } });
    expect(answer.status).toBe(200);
    for (const name of ['set-cookie', 'openai-organization', 'openai-project', 'alt-svc', 'strict-transport-security']) expect(answer.headers[name], name).toBeUndefined();
    expect(answer.headers['x-sluice-route']).toBe('openai');
  });
});

describe('bodies', () => {
  it('a duplicated model key is forwarded as the value that was checked', async () => {
    const body = '{"model":"gpt-4o","model":"gpt-4o-mini","input":"hi"}';
    const { hostname, port } = new URL(sluice.origin);
    const status = await new Promise<number>((resolve, reject) => {
      const outgoing = httpRequest(
        { hostname, port, method: 'POST', path: '/v1/responses', headers: { authorization: `Bearer ${MINI_EVERYWHERE}`, 'content-type': 'application/json' } },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
    expect(status).toBe(200);
    expect(sluice.openai.requests.at(-1)!.body).toMatchObject({ model: 'gpt-4o-mini' });
    expect(JSON.stringify(sluice.openai.requests.at(-1)!.body)).not.toContain('"gpt-4o"');
  });

  it('a body that is neither JSON nor multipart is refused, so the vendor never reads an unchecked model', async () => {
    const before = sluice.openai.requests.length;
    const answer = await send('POST', '/v1/responses', { key: MINI_EVERYWHERE, body: { model: 'gpt-4o', input: 'hi' }, headers: { 'content-type': 'text/plain' } });
    expect(answer.status).toBe(400);
    expect(errorOf(answer).code).toBe('unsupported_content_type');
    expect(sluice.openai.requests.length).toBe(before);
  });
});
