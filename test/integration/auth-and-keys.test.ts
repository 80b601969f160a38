import { Writable } from 'node:stream';
import OpenAI from 'openai';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/auth/key-store.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { buildGateway } from '../../src/gateway.js';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

const MASTER = 'sk-master-0123456789';
const TEAM_KEY = 'sk-team-support-secret';
const LIMITED_KEY = 'sk-limited-secret';

let sluice: TestGateway;
const logLines: string[] = [];

beforeAll(async () => {
  sluice = await startTestGateway((raw) => {
    raw.auth = {
      master_key: MASTER,
      keys: [
        { name: 'support', key_sha256: sha256Hex(TEAM_KEY), allowed_models: ['deepseek-chat', 'auto'] },
        { name: 'limited', key_sha256: sha256Hex(LIMITED_KEY), rate_limit_rpm: 2 },
      ],
    };
  });
});
afterAll(() => sluice.close());

const clientWith = (apiKey: string) => new OpenAI({ baseURL: sluice.baseURL, apiKey, maxRetries: 0 });
const hello = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'hi' }] });

describe('keys and tenants', () => {
  it('no key, or an unknown key, is a 401 in OpenAI’s shape', async () => {
    const missing = await fetch(`${sluice.baseURL}/models`);
    expect(missing.status).toBe(401);
    expect((await missing.json()).error.code).toBe('invalid_api_key');
    const wrong = await clientWith('sk-nope').models.list().catch((error) => error);
    expect(wrong).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('a configured key works and only for its allowed models', async () => {
    const team = clientWith(TEAM_KEY);
    const { response } = await team.chat.completions.create(hello('deepseek-chat')).withResponse();
    expect(response.status).toBe(200);
    const denied = await team.chat.completions.create(hello('gpt-4o')).catch((error) => error);
    expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(denied.param).toBe('model');
    const listed = await team.models.list();
    expect(listed.data.map((model) => model.id).sort()).toEqual(['auto', 'deepseek-chat']);
  });

  it('a key’s rate limit gives 429 with retry-after once the minute is full', async () => {
    const limited = clientWith(LIMITED_KEY);
    await limited.models.list();
    await limited.models.list();
    const error = await limited.models.list().catch((caught) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(Number(error.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('the master key makes keys through the admin API; only the hash is kept', async () => {
    const admin = { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' };
    const refused = await fetch(`${sluice.origin}/admin/keys`, { headers: { authorization: `Bearer ${TEAM_KEY}` } });
    expect(refused.status).toBe(401);

    const created = await fetch(`${sluice.origin}/admin/keys`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'ci-bot', allowed_models: ['gpt-4o-mini'] }) });
    expect(created.status).toBe(201);
    const { key } = await created.json();
    expect(key).toMatch(/^sk-sluice-/);

    const { response } = await clientWith(key).chat.completions.create(hello('gpt-4o-mini')).withResponse();
    expect(response.status).toBe(200);

    const listing = await (await fetch(`${sluice.origin}/admin/keys`, { headers: admin })).json();
    const serialized = JSON.stringify(listing);
    expect(serialized).toContain('ci-bot');
    expect(serialized).not.toContain(key);
    expect(serialized).not.toContain(sha256Hex(key));

    const { readFileSync } = await import('node:fs');
    const stored = readFileSync(`${sluice.config.paths.data_dir}/keys.json`, 'utf8');
    expect(stored).toContain('"key_hmac"');
    expect(stored).not.toContain(sha256Hex(key));
    expect(stored).not.toContain(key);

    expect((await fetch(`${sluice.origin}/admin/keys/ci-bot`, { method: 'DELETE', headers: admin })).status).toBe(200);
    expect(await clientWith(key).models.list().catch((error) => error)).toBeInstanceOf(OpenAI.AuthenticationError);
  });
});

describe('what a key may name is checked when the key is made', () => {
  const admin = { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' };
  const createKey = (body: unknown) => fetch(`${sluice.origin}/admin/keys`, { method: 'POST', headers: admin, body: JSON.stringify(body) });

  it('the admin API refuses an allowed model that is not configured, naming the entry', async () => {
    const refused = await createKey({ name: 'typo-bot', allowed_models: ['gpt-4o-mini', 'gpt-4o-mimi'] });
    expect(refused.status).toBe(400);
    const { error } = await refused.json();
    expect(error).toMatchObject({ type: 'invalid_request_error', param: 'allowed_models[1]', message: expect.stringContaining('gpt-4o-mimi') });
    const listing = await (await fetch(`${sluice.origin}/admin/keys`, { headers: admin })).json();
    expect(listing.data.map((key: { name: string }) => key.name)).not.toContain('typo-bot');
  });

  it('the admin API accepts configured models, routing aliases and "*"', async () => {
    const created = await createKey({ name: 'alias-bot', allowed_models: ['gpt-4o-mini', 'auto', 'gpt-3.5-turbo', '*'] });
    expect(created.status).toBe(201);
    expect((await fetch(`${sluice.origin}/admin/keys/alias-bot`, { method: 'DELETE', headers: admin })).status).toBe(200);
  });

  it('a key made without passthrough_paths reaches no passthrough path; one made with a grant reaches that one only', async () => {
    const plain = await (await createKey({ name: 'plain-bot' })).json();
    const denied = await clientWith(plain.key).responses.create({ model: 'gpt-4o-mini', input: 'hi' }).catch((error) => error);
    expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(denied.code).toBe('passthrough_not_allowed');

    const granted = await createKey({ name: 'responses-bot', allowed_models: ['gpt-4o-mini'], passthrough_paths: ['POST /v1/responses'] });
    expect(granted.status).toBe(201);
    const { key, passthrough_paths: paths } = await granted.json();
    expect(paths).toEqual(['POST /v1/responses']);
    const answer = await clientWith(key).responses.create({ model: 'gpt-4o-mini', input: 'hi' });
    expect(answer.status).toBe('completed');
    expect(await clientWith(key).files.list().catch((error) => error)).toBeInstanceOf(OpenAI.PermissionDeniedError);
  });

  it.each([['/admin/keys'], ['/v1/../admin'], ['/v1/%2e%2e'], ['FETCH /v1/files'], ['/v1/files/']])('the admin API refuses the passthrough grant %s', async (grant) => {
    const refused = await createKey({ name: 'bad-grant-bot', passthrough_paths: [grant] });
    expect(refused.status).toBe(400);
    expect((await refused.json()).error.param).toBe('passthrough_paths[0]');
  });

  it('the admin API keeps a key’s moderation setting and refuses one that routes to an unknown model', async () => {
    const made = await createKey({ name: 'moderated-bot', moderation: { input: 'block', output: 'block' } });
    expect(made.status).toBe(201);
    expect(await made.json()).toMatchObject({ moderation: { input: 'block', output: 'block' } });
    const refused = await createKey({ name: 'bad-route-bot', moderation: { input: 'route', route_to: 'gpt-5x' } });
    expect(refused.status).toBe(400);
    expect((await refused.json()).error).toMatchObject({ param: 'moderation.route_to', message: expect.stringMatching(/"gpt-5x" is not a configured model/) });
  });

  it('the config file refuses an allowed model that is not configured, naming the field', () => {
    const raw = { ...structuredClone(sluice.config), auth: { keys: [{ name: 'a', key_sha256: sha256Hex('a'), allowed_models: ['auto', 'gpt-5x'] }] } };
    expect(() => parseConfig(raw)).toThrow(ConfigError);
    try {
      parseConfig(raw);
    } catch (error) {
      expect((error as ConfigError).lines).toContain('auth.keys[0].allowed_models[1]: "gpt-5x" is not a configured model, routing alias or "*"');
    }
  });

  it('the config file refuses a passthrough grant outside /v1', () => {
    const raw = { ...structuredClone(sluice.config), auth: { keys: [{ name: 'a', key_sha256: sha256Hex('a'), passthrough_paths: ['/v1/files', '/v1/../admin'] }] } };
    const lines = (() => {
      try {
        parseConfig(raw);
        return [];
      } catch (error) {
        return (error as ConfigError).lines;
      }
    })();
    expect(lines).toEqual([expect.stringMatching(/^auth\.keys\[0\]\.passthrough_paths\[1\]: /)]);
  });
});

describe('secrets stay out of the logs', () => {
  it('neither the caller’s key nor the upstream key appears in any log line', async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    });
    const config = parseConfig({ ...structuredClone(sluice.config), server: { ...sluice.config.server, log_level: 'debug' } });
    const gateway = buildGateway(config, pino({ level: 'debug' }, sink));
    const server = await gateway.listen(0, '127.0.0.1');
    const port = (server.address() as { port: number }).port;
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: TEAM_KEY, maxRetries: 0 });
    await client.chat.completions.create(hello('deepseek-chat'));
    await client.chat.completions.create(hello('gpt-4o')).catch(() => undefined);
    await new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'sk-wrong-guess-key', maxRetries: 0 }).models.list().catch(() => undefined);
    await gateway.close();
    const all = logLines.join('');
    expect(logLines.length).toBeGreaterThanOrEqual(3);
    for (const secret of [TEAM_KEY, MASTER, 'sk-wrong-guess-key', sluice.openai.apiKey, sluice.deepseek.apiKey]) expect(all).not.toContain(secret);
  });
});
