/**
 * SECURITY.md, keys and admin: virtual keys are kept as HMACs under a pepper that is not in the
 * data directory, key files from before the pepper keep working (and are upgraded), and every
 * /admin route — today's and any added later to the admin router — needs the master key.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyStore, sha256Hex } from '../../src/auth/key-store.js';
import { parseConfig } from '../../src/config/load.js';
import { buildGateway, type Gateway } from '../../src/gateway.js';
import { adminRouter } from '../../src/server/routes/admin-routes.js';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

const MASTER = 'sk-master-security-keys';
const PEPPER = 'pepper-for-the-security-tests-0001';
const TEAM_KEY = 'sk-team-security-keys-0001';

let sluice: TestGateway;
const extra: Gateway[] = [];

beforeAll(async () => {
  sluice = await startTestGateway((raw) => {
    raw.auth = { master_key: MASTER, key_pepper: PEPPER, keys: [{ name: 'team', key_sha256: sha256Hex(TEAM_KEY) }] };
  });
});
afterAll(async () => {
  for (const gateway of extra) await gateway.close();
  await sluice?.close();
});

/** Another gateway on the same data directory, as after a restart with other settings. */
async function restartWith(auth: Record<string, unknown>, dataDir = sluice.config.paths.data_dir): Promise<string> {
  const config = parseConfig({ ...structuredClone(sluice.config), paths: { ...sluice.config.paths, data_dir: dataDir }, auth });
  const gateway = buildGateway(config, pino({ level: 'silent' }));
  extra.push(gateway);
  const server = await gateway.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

const statusOf = async (origin: string, key: string) => (await fetch(`${origin}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status;

async function createKey(name: string): Promise<string> {
  const created = await fetch(`${sluice.origin}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  expect(created.status).toBe(201);
  return ((await created.json()) as { key: string }).key;
}

describe('keys are kept as keyed hashes', () => {
  it('keys.json holds an HMAC: neither the key nor its plain SHA-256', async () => {
    const key = await createKey('hashed-bot');
    expect(await statusOf(sluice.origin, key)).toBe(200);
    const stored = JSON.parse(readFileSync(join(sluice.config.paths.data_dir, 'keys.json'), 'utf8')) as Record<string, unknown>[];
    const record = stored.find((entry) => entry.name === 'hashed-bot')!;
    expect(record.key_hmac).toMatch(/^[0-9a-f]{64}$/);
    expect(record.key_hmac).not.toBe(sha256Hex(key));
    expect(record).not.toHaveProperty('key_sha256');
    const text = JSON.stringify(stored);
    expect(text).not.toContain(key);
    expect(text).not.toContain(sha256Hex(key));
  });

  it('the hash is keyed: under another pepper the stored key matches nothing; under the same one it survives a new master key', async () => {
    const key = await createKey('pepper-bot');
    const otherPepper = await restartWith({ master_key: MASTER, key_pepper: 'a-completely-different-pepper' });
    expect(await statusOf(otherPepper, key)).toBe(401);
    const rotatedMaster = await restartWith({ master_key: 'sk-master-rotated-0002', key_pepper: PEPPER });
    expect(await statusOf(rotatedMaster, key)).toBe(200);
  });

  it('without key_pepper the pepper derives from the master key: the same master key verifies, another does not', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sluice-security-derived-'));
    const first = await restartWith({ master_key: MASTER }, dataDir);
    const created = await fetch(`${first}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' }, body: '{"name":"derived"}' });
    const { key } = (await created.json()) as { key: string };
    expect(await statusOf(await restartWith({ master_key: MASTER }, dataDir), key)).toBe(200);
    expect(await statusOf(await restartWith({ master_key: 'sk-master-someone-else' }, dataDir), key)).toBe(401);
  });

  it('a keys.json from before the pepper (key_sha256) keeps working and is rewritten as HMACs', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sluice-security-legacy-'));
    const legacyKey = 'sk-sluice-legacy-key-made-before-the-pepper';
    const file = join(dataDir, 'keys.json');
    writeFileSync(file, JSON.stringify([{ name: 'legacy', key_sha256: sha256Hex(legacyKey), prefix: legacyKey.slice(0, 14), rate_limit_rpm: 100 }]));
    const origin = await restartWith({ master_key: MASTER, key_pepper: PEPPER }, dataDir);
    expect(await statusOf(origin, legacyKey)).toBe(200);
    expect(await statusOf(origin, 'sk-sluice-legacy-key-made-before-the-peppeR')).toBe(401);
    const [record] = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>[];
    expect(record).toMatchObject({ name: 'legacy', rate_limit_rpm: 100, key_hmac: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(record).not.toHaveProperty('key_sha256');
    // The upgraded file is read as well as the legacy one was.
    expect(await statusOf(await restartWith({ master_key: MASTER, key_pepper: PEPPER }, dataDir), legacyKey)).toBe(200);
  });

  it('config keys listed by SHA-256 still work, and a revoked key stops at once although it was just verified', async () => {
    expect(await statusOf(sluice.origin, TEAM_KEY)).toBe(200);
    const key = await createKey('revoked-bot');
    expect(await statusOf(sluice.origin, key)).toBe(200);
    expect(await statusOf(sluice.origin, key)).toBe(200);
    expect((await fetch(`${sluice.origin}/admin/keys/revoked-bot`, { method: 'DELETE', headers: { authorization: `Bearer ${MASTER}` } })).status).toBe(200);
    expect(await statusOf(sluice.origin, key)).toBe(401);
  });
});

/** Every route the admin router declares, with its parameters filled in, plus paths it does not know. */
function adminRoutes(): { method: string; path: string }[] {
  const router = adminRouter(new KeyStore([], MASTER, undefined, new Set()), true) as unknown as {
    stack: { route?: { path: string; methods: Record<string, boolean> } }[];
  };
  const declared = router.stack.flatMap((layer) =>
    layer.route ? Object.keys(layer.route.methods).map((method) => ({ method: method.toUpperCase(), path: `/admin${layer.route!.path.replace(/:\w+/g, 'x')}` })) : [],
  );
  const unknown = ['/admin', '/admin/', '/admin/dashboard', '/admin/anything/else', '/admin/keys/../keys'].map((path) => ({ method: 'GET', path }));
  return [...declared, ...unknown];
}

describe('every /admin route needs the master key', () => {
  const routes = adminRoutes();

  it('the admin router declares routes (keys, cache, report, …) for the table below', () => {
    expect(routes.filter((route) => !['/admin', '/admin/'].includes(route.path)).length).toBeGreaterThanOrEqual(5);
  });

  it.each(routes)('$method $path: 401 without a key, with a tenant key and with a wrong key', async ({ method, path }) => {
    for (const headers of [{}, { authorization: `Bearer ${TEAM_KEY}` }, { authorization: `Bearer ${MASTER}x` }, { 'x-api-key': TEAM_KEY }] as Record<string, string>[]) {
      const response = await fetch(`${sluice.origin}${path}`, { method, headers: { ...headers, 'content-type': 'application/json' }, body: method === 'GET' || method === 'DELETE' ? undefined : '{}' });
      expect(response.status).toBe(401);
      const { error } = (await response.json()) as { error: { code: string } };
      expect(error.code).toBe('invalid_api_key');
    }
  });

  it.each(routes.filter((route) => route.method === 'GET' && route.path === '/admin/keys'))('$method $path with the master key is served', async ({ method, path }) => {
    const response = await fetch(`${sluice.origin}${path}`, { method, headers: { authorization: `Bearer ${MASTER}` } });
    expect(response.status).toBe(200);
  });
});
