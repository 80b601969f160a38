import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run-cli.js';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { startOptimizer } from '../../src/learning/optimizer-job.js';
import { buildProposal, type Proposal } from '../../src/learning/optimizer.js';
import { RoutingState, type RoutingChange } from '../../src/routing/routing-state.js';
import { openPgliteDatabase } from '../../src/store/pglite-store.js';
import type { SqlDatabase } from '../../src/store/sql-database.js';
import { startTestGateway, testModels } from '../support/gateway-harness.js';
import { NOW, seed, THRESHOLDS } from '../unit/learning/optimizer-log-fixture.js';
import { freePort } from '../../adapters/sidecar/sidecar-process.js';

const temporary = mkdtempSync(join(tmpdir(), 'sluice-optimizer-'));
const SETTINGS = { windowDays: 7, minLabels: 30, agreementGood: 0.5, vendorQuality: 0.9, qualityTarget: 0.75, localShareBounds: [0.5, 1] as const, localShareStep: 0.1, qualityMargin: 0.05 };

async function sluice(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { env: {}, stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, readStdin: async () => '' });
  return { code, stdout, stderr };
}

describe('optimizer', () => {
  let memory: SqlDatabase;
  let proposal: Proposal;

  beforeAll(async () => {
    memory = await openPgliteDatabase({ inMemory: true });
    await seed(memory);
    proposal = await buildProposal(memory, SETTINGS, { localShare: 1, escalationThresholds: THRESHOLDS }, NOW);
  });
  afterAll(async () => memory?.close());

  it('raises the threshold of the tier whose low-scored local answers are poor, and says what it costs and gains', () => {
    // 44 labels in the window, 25 good. Escalating the k lowest (all bad): (25 + 0.9k) / 44 ≥ 0.75 first at k = 9,
    // so the threshold becomes the 10th lowest score, 0.805.
    const medium = proposal.evidence.tiers.find((tier) => tier.tier === 'medium');
    expect(medium).toMatchObject({ localAnswered: 44, localEscalated: 10, labels: { feedback: 40, shadow: 4, good: 25 } });
    expect(medium?.current).toEqual({ threshold: 0.75, escalation_rate: 0, expected_quality: Number((25 / 44).toFixed(4)) });
    expect(medium?.proposed.threshold).toBe(0.805);
    const change = proposal.changes.find((entry) => entry.setting === 'escalation_threshold');
    expect(change).toMatchObject({ tier: 'medium', from: 0.75, to: 0.805 });
    // More escalations cost more (9/44 of the requests at $0.01) and lift quality.
    expect(change?.expected_cost_per_request_delta_usd).toBeCloseTo((9 / 44) * 0.01, 6);
    expect(change?.expected_quality_delta).toBeCloseTo(8.1 / 44, 3);
    expect(proposal.evidence.vendor_cost_per_escalation_usd).toBeCloseTo(0.01, 6);
  });

  it('lowers local_share one step when the labelled local answers miss the quality target', () => {
    // At the fitted threshold 35 labelled answers are served, 25 good: 0.714 < 0.75.
    expect(proposal.changes.find((entry) => entry.setting === 'local_share')).toMatchObject({ from: 1, to: 0.9 });
    expect(proposal.evidence.local_share.labelled_quality_at_proposed_thresholds).toBeCloseTo(25 / 35, 3);
    expect(proposal.not_done.join(' ')).toMatch(/tier classifier/);
  });

  /** One run of the optimizer's schedule on live routing settings at local_share 1; what changed. */
  async function scheduledRun(config: Config): Promise<{ routing: RoutingState; changes: RoutingChange[] }> {
    const routing = new RoutingState({ localShare: 1, escalationThresholds: THRESHOLDS });
    const changes: RoutingChange[] = [];
    routing.onChange((change) => changes.push(change));
    const job = startOptimizer(config, routing, pino({ level: 'silent' }), memory);
    try {
      await job?.runOnce();
    } finally {
      job?.stop();
    }
    return { routing, changes };
  }

  it('with auto_apply, a scheduled run saves its proposal and moves the live routing settings with the reason "optimizer v1"', async () => {
    const config = parseConfig({ paths: { data_dir: join(temporary, 'auto') }, learning: { optimizer: { auto_apply: true, schedule: '0 3 * * 1' } } });
    const { routing, changes } = await scheduledRun(config);
    expect(routing.escalationThreshold('medium')).toBe(0.805);
    expect(routing.localShare).toBe(0.9);
    expect(changes.map((change) => change.reason)).toEqual(['optimizer v1', 'optimizer v1']);
    expect(existsSync(join(temporary, 'auto', 'learning', 'proposals', '0001.json'))).toBe(true);
    expect(() => startOptimizer(parseConfig({ learning: { optimizer: { auto_apply: true, schedule: 'every monday' } } }), routing, pino({ level: 'silent' }), memory)).toThrow(/learning.optimizer.schedule "every monday" is not a cron pattern/);
  });

  it('without auto_apply, a scheduled run saves its proposal as pending and leaves the live routing as it is', async () => {
    const config = parseConfig({ paths: { data_dir: join(temporary, 'pending') } });
    const { routing, changes } = await scheduledRun(config);
    expect(changes).toEqual([]);
    expect(routing.localShare).toBe(1);
    const saved = JSON.parse(readFileSync(join(temporary, 'pending', 'learning', 'proposals', '0001.json'), 'utf8')) as Proposal;
    expect(saved.changes.length).toBeGreaterThan(0);
    expect(existsSync(join(temporary, 'pending', 'learning', 'applied.json'))).toBe(false);
  });

  describe('sluice optimize and the gateway', () => {
    let dataDir: string;
    let configPath: string;

    beforeAll(async () => {
      dataDir = join(temporary, 'data');
      const onDisk = await openPgliteDatabase({ dataDir });
      await seed(onDisk);
      await onDisk.close();
      configPath = join(temporary, 'sluice.json');
      writeFileSync(configPath, JSON.stringify({ server: { host: '127.0.0.1', port: await freePort() }, paths: { data_dir: dataDir }, models: testModels().slice(0, 4), backends: { openai: { type: 'openai', requires_key: false }, deepseek: { type: 'openai', requires_key: false }, anthropic: { type: 'anthropic', requires_key: false } } }));
    });

    it('a dry run prints the proposal and writes nothing', async () => {
      const run = await sluice(['optimize', '--dry-run', '--config', configPath]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('dry run, not saved');
      expect(run.stdout).toContain('- escalation_threshold[medium]: 0.75\n+ escalation_threshold[medium]: 0.805');
      expect(run.stdout).toContain('- local_share: 1\n+ local_share: 0.9');
      expect(run.stdout).toContain('not done: re-training the tier classifier');
      expect(existsSync(join(dataDir, 'learning'))).toBe(false);
      const json = await sluice(['optimize', '--json', '--config', configPath]);
      expect((JSON.parse(json.stdout) as { mode: string; proposal: Proposal }).proposal.changes).toHaveLength(2);
    });

    it('--apply saves and applies it, a gateway starts with it, --rollback undoes it', async () => {
      const applied = await sluice(['optimize', '--apply', '--config', configPath]);
      expect(applied.code).toBe(0);
      expect(applied.stdout).toContain('applied v1');
      expect(JSON.parse(readFileSync(join(dataDir, 'learning', 'proposals', '0001.json'), 'utf8')).version).toBe(1);

      const gateway = await startTestGateway((raw) => {
        raw.paths.data_dir = dataDir;
      });
      try {
        expect(gateway.gateway.routing.escalationThreshold('medium')).toBe(0.805);
        expect(gateway.gateway.routing.escalationThreshold('simple')).toBe(0.75);
        expect(gateway.gateway.routing.localShare).toBe(0.9);
      } finally {
        await gateway.close();
      }

      const listed = await sluice(['optimize', '--list', '--config', configPath]);
      expect(listed.stdout).toMatch(/v1 .* \(applied\)/);
      const rolledBack = await sluice(['optimize', '--rollback', '--config', configPath]);
      expect(rolledBack.code).toBe(0);
      expect(rolledBack.stdout).toContain('rolled back v1');
      expect(JSON.parse(readFileSync(join(dataDir, 'learning', 'applied.json'), 'utf8'))).toMatchObject({ version: null, settings: { local_share: 1, escalation_thresholds: THRESHOLDS } });
      expect((await sluice(['optimize', '--rollback', '--config', configPath])).stderr).toContain('nothing to roll back');
    });
  });
});
