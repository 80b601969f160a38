import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OptimizeResult } from '../../src/learning/optimizer-control.js';
import type { RoutingChange } from '../../src/routing/routing-state.js';
import { openStore } from '../../src/store/open-store.js';
import { startTestGateway, testModels, type TestGateway } from '../support/gateway-harness.js';
import { seed } from '../unit/learning/optimizer-log-fixture.js';
import { runSluice } from '../support/sluice-cli.js';

const MASTER_KEY = 'sk-master-optimize-route';
const temporary = mkdtempSync(join(tmpdir(), 'sluice-optimize-route-'));

const sluice = (args: string[], env: Record<string, string> = {}) => runSluice(args, env);

describe('POST /admin/optimize on a running gateway, and sluice optimize through it', () => {
  let gateway: TestGateway;
  let dataDir: string;
  let configPath: string;
  const changes: RoutingChange[] = [];
  const optimize = async (body: unknown, key: string | null = MASTER_KEY) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (key !== null) headers.authorization = `Bearer ${key}`;
    const response = await fetch(`${gateway.origin}/admin/optimize`, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as OptimizeResult & { error?: { message: string; param?: string | null; code?: string | null } } };
  };
  const live = () => ({ medium: gateway.gateway.routing.escalationThreshold('medium'), simple: gateway.gateway.routing.escalationThreshold('simple'), localShare: gateway.gateway.routing.localShare });

  beforeAll(async () => {
    dataDir = join(temporary, 'data');
    const store = await openStore({ dataDir, inferenceLog: { flushIntervalMs: 60_000 } });
    await seed(store.database);
    gateway = await startTestGateway(
      (raw) => {
        raw.paths.data_dir = dataDir;
        raw.auth = { master_key: MASTER_KEY };
      },
      { inferenceLog: store.inferenceLog, store },
    );
    gateway.gateway.routing.onChange((change) => changes.push(change));
    configPath = join(temporary, 'sluice.json');
    const port = Number(new URL(gateway.origin).port);
    writeFileSync(configPath, JSON.stringify({ server: { host: '127.0.0.1', port }, paths: { data_dir: dataDir }, models: testModels().slice(0, 4), backends: { openai: { type: 'openai', requires_key: false }, deepseek: { type: 'openai', requires_key: false }, anthropic: { type: 'anthropic', requires_key: false } } }));
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('needs the master key and refuses a body that mixes modes', async () => {
    expect((await optimize({}, null)).status).toBe(401);
    expect((await optimize({}, 'sk-not-the-master')).status).toBe(401);
    const mixed = await optimize({ list: true, rollback: true });
    expect(mixed.status).toBe(400);
    expect(mixed.body.error?.message).toMatch(/choose one of dry_run, apply, rollback, list/);
    const typo = await optimize({ aply: 1 });
    expect(typo.status).toBe(400);
    expect(typo.body.error?.param).toBe('aply');
  });

  it('a dry run by default: the proposal from the gateway’s own log, nothing saved, routing untouched', async () => {
    const { status, body } = await optimize({});
    expect(status).toBe(200);
    expect(body.mode).toBe('dry-run');
    if (body.mode !== 'dry-run') return;
    expect(body.proposal.version).toBe(0);
    expect(body.proposal.changes.map((change) => [change.setting, change.tier, change.from, change.to])).toEqual([
      ['escalation_threshold', 'medium', 0.75, 0.805],
      ['local_share', undefined, 1, 0.9],
    ]);
    expect(existsSync(join(dataDir, 'learning', 'proposals'))).toBe(false);
    expect(live()).toEqual({ medium: 0.75, simple: 0.75, localShare: 1 });
  });

  it('sluice optimize without the master key refuses to open the database the gateway holds', async () => {
    const run = await sluice(['optimize', '--config', configPath]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/has the embedded database .* open, and PGlite cannot be opened by a second process; set SLUICE_MASTER_KEY/);
  });

  it('sluice optimize --apply asks the gateway, which routes with the new settings at once', async () => {
    const run = await sluice(['optimize', '--apply', '--config', configPath], { SLUICE_MASTER_KEY: MASTER_KEY });
    expect(run.stderr).toMatch(/a gateway runs at http:\/\/127\.0\.0\.1:\d+; asking it/);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('+ escalation_threshold[medium]: 0.805');
    expect(run.stdout).toContain('applied v1 (the running gateway routes with it now)');
    expect(live()).toEqual({ medium: 0.805, simple: 0.75, localShare: 0.9 });
    expect(changes.map((change) => change.reason)).toEqual(['optimizer v1', 'optimizer v1']);
    const listed = await sluice(['optimize', '--list', '--json', '--config', configPath], { SLUICE_MASTER_KEY: MASTER_KEY });
    expect(JSON.parse(listed.stdout)).toMatchObject({ mode: 'list', applied: 1, proposals: [{ version: 1 }] });
  });

  it('rollback through the route restores the live settings exactly; a second one has nothing to undo', async () => {
    const { status, body } = await optimize({ rollback: true });
    expect(status).toBe(200);
    expect(body).toMatchObject({ mode: 'rollback', rolled_back: 1, live: true });
    expect(live()).toEqual({ medium: 0.75, simple: 0.75, localShare: 1 });
    const again = await optimize({ rollback: true });
    expect(again.status).toBe(400);
    expect(again.body.error?.message).toMatch(/nothing to roll back/);
  });

  it('apply: <version> puts a saved proposal back into force; an unknown version is a 404', async () => {
    const { status, body } = await optimize({ apply: 1 });
    expect(status).toBe(200);
    expect(body).toMatchObject({ mode: 'apply', proposal: { version: 1 }, live: true });
    expect(live()).toEqual({ medium: 0.805, simple: 0.75, localShare: 0.9 });
    const missing = await optimize({ apply: 99 });
    expect(missing.status).toBe(404);
    expect(missing.body.error?.message).toMatch(/no proposal 99/);
  });

  it('sluice optimize --rollback through the gateway says the live routing moved', async () => {
    const run = await sluice(['optimize', '--rollback', '--config', configPath], { SLUICE_MASTER_KEY: MASTER_KEY });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('rolled back v1');
    expect(run.stdout).toContain('the running gateway routes with these settings now');
    expect(live()).toEqual({ medium: 0.75, simple: 0.75, localShare: 1 });
  });
});
