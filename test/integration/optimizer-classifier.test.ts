import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run-cli.js';
import type { OptimizeResult } from '../../src/learning/optimizer-control.js';
import type { Proposal } from '../../src/learning/optimizer.js';
import type { RoutingChange } from '../../src/routing/routing-state.js';
import { openStore } from '../../src/store/open-store.js';
import { startTestGateway, testModels, type TestGateway } from '../support/gateway-harness.js';
import { lookupPrompt, seedMisrouted, timetablePrompt } from '../unit/learning/classifier-log-fixture.js';
import { runSluice } from '../support/sluice-cli.js';
import { loadRoutingSet } from '../../eval/routing/check-set.js';

const MASTER_KEY = 'sk-master-optimizer-classifier';
const temporary = mkdtempSync(join(tmpdir(), 'sluice-optimizer-classifier-'));
const dataDir = join(temporary, 'data');
/** Not in the log (the seed has timetable prompts 0..29): what the re-fit has to generalise to. */
const UNSEEN_TIMETABLE = timetablePrompt(35);
const OTHERS = { lookup: lookupPrompt(3), proof: 'prove that √2 is irrational', poem: 'Write a short poem about rain on a tin roof.' };

const sluice = (args: string[]) => runSluice(args, { SLUICE_MASTER_KEY: MASTER_KEY });

async function startGateway(): Promise<TestGateway> {
  const store = await openStore({ dataDir, inferenceLog: { flushIntervalMs: 60_000 } });
  return startTestGateway(
    (raw) => {
      raw.paths.data_dir = dataDir;
      raw.auth = { master_key: MASTER_KEY };
    },
    { inferenceLog: store.inferenceLog, store },
  );
}

describe('the optimizer re-fits the tier classifier, and the gateway routes with it', () => {
  let gateway: TestGateway;
  let configPath: string;
  const changes: RoutingChange[] = [];
  const optimize = async (body: unknown) => {
    const response = await fetch(`${gateway.origin}/admin/optimize`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER_KEY}` }, body: JSON.stringify(body) });
    expect(response.status).toBe(200);
    return (await response.json()) as OptimizeResult;
  };
  const dryRun = async () => ((await optimize({ dry_run: true })) as Extract<OptimizeResult, { mode: 'dry-run' }>).proposal;
  /** The tier the gateway routes a prompt to, from its x-sluice-tier header. */
  const tierOf = async (content: string) => {
    const client = new OpenAI({ baseURL: gateway.baseURL, apiKey: MASTER_KEY, maxRetries: 0 });
    const { response } = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content }] }).withResponse();
    return response.headers.get('x-sluice-tier');
  };
  const tiers = async () => ({ timetable: await tierOf(UNSEEN_TIMETABLE), lookup: await tierOf(OTHERS.lookup), proof: await tierOf(OTHERS.proof), poem: await tierOf(OTHERS.poem) });
  const SHIPPED_TIERS = { timetable: 'simple', lookup: 'simple', proof: 'high', poem: 'creative' };

  beforeAll(async () => {
    const seeding = await openStore({ dataDir, inferenceLog: { flushIntervalMs: 60_000 } });
    await seedMisrouted(seeding.database);
    await seeding.close();
    gateway = await startGateway();
    gateway.gateway.routing.onChange((change) => changes.push(change));
    configPath = join(temporary, 'sluice.json');
    const port = Number(new URL(gateway.origin).port);
    writeFileSync(configPath, JSON.stringify({ server: { host: '127.0.0.1', port }, paths: { data_dir: dataDir }, models: testModels().slice(0, 4), backends: { openai: { type: 'openai', requires_key: false }, deepseek: { type: 'openai', requires_key: false }, anthropic: { type: 'anthropic', requires_key: false } } }));
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it('before any proposal the shipped classifier routes an (unseen) timetable problem simple', async () => {
    expect(gateway.gateway.routing.classifier?.version).toBe('shipped');
    expect(await tiers()).toEqual(SHIPPED_TIERS);
  });

  let proposal: Proposal;
  it('a dry run proposes a tier_classifier change from the poor-rated simple answers, with held-out accuracy before and after', async () => {
    proposal = await dryRun();
    const classifier = proposal.evidence.classifier!;
    expect(classifier).toMatchObject({ new_examples: 50, examples_by_label: { 'simple→medium': 30, simple: 20 }, in_force: 'shipped', accepted: true });
    expect(classifier.accuracy_after).toBeGreaterThanOrEqual(classifier.accuracy_before);
    const change = proposal.changes.find((entry) => entry.setting === 'tier_classifier');
    expect(change).toMatchObject({ from: classifier.accuracy_before, to: classifier.accuracy_after });
    // The shipped examples are the labelled set's train split, the artefact's own training data.
    const trainItems = loadRoutingSet().items.filter((item) => item.split === 'train').length;
    expect(change?.reason).toMatch(new RegExp(`re-fitted on ${trainItems} shipped \\+ 50 logged examples; held-out accuracy`));
    expect(proposal.classifier_model?.weights).toHaveLength(5);
    expect(proposal.not_done.filter((line) => line.includes('classifier'))).toEqual([]);
    expect(gateway.gateway.routing.classifier?.version).toBe('shipped');
  });

  it('sluice optimize --apply through the gateway swaps the live classifier: timetable problems go one tier up, the others keep theirs', async () => {
    const run = await sluice(['optimize', '--apply', '--config', configPath]);
    expect(run.stderr).toMatch(/a gateway runs at http:\/\/127\.0\.0\.1:\d+; asking it/);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`+ tier_classifier: ${proposal.evidence.classifier!.accuracy_after}`);
    expect(run.stdout).toMatch(/tier classifier: 50 labelled prompts \(simple 20, simple→medium 30\)/);
    expect(run.stdout).toContain('applied v1 (the running gateway routes with it now)');
    expect(gateway.gateway.routing.classifier?.version).toBe('optimizer v1');
    expect(changes.filter((change) => change.setting === 'tier_classifier')).toEqual([{ setting: 'tier_classifier', value: 'optimizer v1', previous: 'shipped', reason: 'optimizer v1' }]);
    expect(await tiers()).toEqual({ ...SHIPPED_TIERS, timetable: 'medium' });
    expect(JSON.parse(readFileSync(join(dataDir, 'learning', 'applied.json'), 'utf8'))).toMatchObject({ version: 1, settings: { classifier_version: 1 } });
  }, 60_000);

  it('the next proposal on the same window measures against the re-fit in force and has nothing new for the classifier', async () => {
    const again = await dryRun();
    expect(again.evidence.classifier).toMatchObject({ in_force: 'optimizer v1', accuracy_before: proposal.evidence.classifier!.accuracy_after, accepted: false });
    expect(again.changes.map((change) => change.setting)).not.toContain('tier_classifier');
    expect(again.not_done.join(' ')).toMatch(/is the classifier in force \(optimizer v1\) already/);
  });

  it('rollback puts the shipped classifier back exactly', async () => {
    expect(await optimize({ rollback: true })).toMatchObject({ mode: 'rollback', rolled_back: 1, live: true });
    const live = gateway.gateway.routing.classifier!;
    expect(live.version).toBe('shipped');
    expect(live.classify({ model: 'auto', messages: [{ role: 'user', content: UNSEEN_TIMETABLE }] })).toEqual(live.initial.classify({ model: 'auto', messages: [{ role: 'user', content: UNSEEN_TIMETABLE }] }));
    expect(await tiers()).toEqual(SHIPPED_TIERS);
    expect(changes.filter((change) => change.setting === 'tier_classifier').at(-1)).toEqual({ setting: 'tier_classifier', value: 'shipped', previous: 'optimizer v1', reason: 'optimizer rollback of v1' });
  });

  it('a gateway started later with the proposal applied routes with its classifier', async () => {
    await optimize({ apply: 1 });
    await gateway.close();
    gateway = await startGateway();
    expect(gateway.gateway.routing.classifier?.version).toBe('optimizer v1');
    expect(await tiers()).toEqual({ ...SHIPPED_TIERS, timetable: 'medium' });
  });
});

describe('sluice optimize with no gateway running', () => {
  it('re-fits from the log in the data directory, and the next gateway starts with the re-fitted classifier', async () => {
    const offline = join(temporary, 'offline');
    const seeding = await openStore({ dataDir: offline, inferenceLog: { flushIntervalMs: 60_000 } });
    await seedMisrouted(seeding.database);
    await seeding.close();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const configPath = join(temporary, 'offline.json');
    writeFileSync(configPath, JSON.stringify({ server: { host: '127.0.0.1', port }, paths: { data_dir: offline }, models: testModels().slice(0, 4), backends: { openai: { type: 'openai', requires_key: false }, deepseek: { type: 'openai', requires_key: false }, anthropic: { type: 'anthropic', requires_key: false } } }));
    let stdout = '';
    const code = await runCli(['optimize', '--apply', '--config', configPath], { env: {}, stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => {} }, readStdin: async () => '' });
    expect(code).toBe(0);
    expect(stdout).toMatch(/\+ tier_classifier: \d/);
    expect(stdout).toContain('a gateway takes it at its next start');

    const gateway = await startTestGateway((raw) => {
      raw.paths.data_dir = offline;
    });
    try {
      expect(gateway.gateway.routing.classifier?.version).toBe('optimizer v1');
      expect(gateway.gateway.routing.classifier?.classify({ model: 'auto', messages: [{ role: 'user', content: UNSEEN_TIMETABLE }] }).tier).toBe('medium');
    } finally {
      await gateway.close();
    }
  }, 60_000);
});
