import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.js';

const shipped = readFileSync('config/sluice.yaml', 'utf8');
const load = (env: NodeJS.ProcessEnv, text = shipped) => loadConfig({ SLUICE_CONFIG: 'x.yaml', ...env }, () => text);

function issuesOf(action: () => unknown): string[] {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).lines;
  }
  throw new Error('expected a ConfigError');
}

describe('config loading', () => {
  it('the shipped config is valid and lists every model of the cost plan with a price', () => {
    const config = load({});
    const ids = config.models.map((model) => model.id);
    for (const id of ['gpt-4o', 'claude-3-5-sonnet-latest', 'deepseek-chat', 'text-embedding-3-small', 'whisper-1']) expect(ids).toContain(id);
    const localTypes = new Set(['llama-cpp', 'onnx', 'onnx-classifier', 'sidecar']);
    for (const model of config.models) {
      const total = model.price.input_per_1m + model.price.output_per_1m + (model.price.audio_per_minute ?? 0);
      if (localTypes.has(config.backends[model.backend].type)) expect(total, model.id).toBe(0);
      else expect(total, model.id).toBeGreaterThan(0);
    }
    // Every local backend needs no key, so a fresh clone with no keys still answers.
    for (const backend of Object.values(config.backends)) if (localTypes.has(backend.type)) expect(backend.requires_key).toBe(false);
    expect(config.routing.tiers.simple?.[0]).toBe('qwen2.5-coder-1.5b-instruct');
    expect(config.server.port).toBe(8080);
    expect(config.budget.monthly_usd).toBe(200);
  });

  it('the environment overrides the file (DESIGN.md §3)', () => {
    const config = load({
      PORT: '9999',
      SLUICE_MONTHLY_BUDGET_USD: '40',
      SLUICE_DATA_DIR: '/tmp/sluice-data',
      OPENAI_API_KEY: 'sk-from-env',
      OPENAI_BASE_URL: 'http://127.0.0.1:1234/v1',
      REDIS_URL: 'redis://127.0.0.1:6390',
      SLUICE_MASTER_KEY: 'master-key-123',
    });
    expect(config.server.port).toBe(9999);
    expect(config.budget.monthly_usd).toBe(40);
    expect(config.paths.data_dir).toBe('/tmp/sluice-data');
    expect(config.backends.openai.api_key).toBe('sk-from-env');
    expect(config.backends.openai.base_url).toBe('http://127.0.0.1:1234/v1');
    expect(config.storage.redis_url).toBe('redis://127.0.0.1:6390');
    expect(config.auth.master_key).toBe('master-key-123');
  });

  it('is frozen: nothing can change it after start', () => {
    const config = load({});
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).toThrow();
  });

  it('names the field of a bad value', () => {
    expect(issuesOf(() => load({ PORT: 'eighty' }))).toEqual([expect.stringMatching(/^server\.port: /)]);
  });

  it('a typo is an error, not something silently ignored', () => {
    const lines = issuesOf(() => load({}, shipped.replace('log_level: info', 'log_levle: info')));
    expect(lines.join('\n')).toMatch(/server.*log_levle/);
  });

  it('a fallback or tier naming an unknown model is refused with its path', () => {
    const text = shipped.replace('fallback: [claude-3-5-sonnet-latest]', 'fallback: [gpt-5x]');
    expect(issuesOf(() => load({}, text))).toContainEqual(expect.stringMatching(/^models\[\d+\]\.fallback\[0\]: unknown model "gpt-5x"$/));
    const tiers = shipped.replace('high: [claude-3-5-sonnet-latest, gpt-4o]', 'high: [claude-9]');
    expect(issuesOf(() => load({}, tiers))).toContainEqual('routing.tiers.high[0]: unknown model "claude-9"');
  });

  it('a model on an undeclared backend is refused', () => {
    const text = shipped.replace('    backend: deepseek\n', '    backend: deepsek\n');
    expect(issuesOf(() => load({}, text))).toContainEqual(expect.stringMatching(/^models\[\d+\]\.backend: unknown backend "deepsek"$/));
  });

  it('a moderation guardrail that cannot work is refused at start, naming the setting', () => {
    const guard = (settings: string) => shipped.replace(/guardrails:\n {2}moderation:\n( {4}.*\n)+/, `guardrails:\n  moderation:\n${settings}`);
    expect(issuesOf(() => load({}, guard('    input: route\n')))).toContainEqual('guardrails.moderation.route_to: input: route needs route_to, a configured chat model');
    expect(issuesOf(() => load({}, guard('    input: route\n    route_to: whisper-1\n')))).toContainEqual('guardrails.moderation.route_to: "whisper-1" is not a configured chat model');
    expect(issuesOf(() => load({}, guard('    model: gpt-4o\n')))).toContainEqual('guardrails.moderation.model: "gpt-4o" is not a configured model with the moderate capability');
    const noModerator = guard('    output: block\n').replace(/capabilities: \[moderate\]/g, 'capabilities: [classify]');
    expect(issuesOf(() => load({}, noModerator))).toContainEqual('guardrails.moderation: moderation is on but no configured model has the moderate capability');
    expect(load({}, guard('    input: block\n    output: block\n')).guardrails.moderation).toMatchObject({ input: 'block', output: 'block', on_error: 'allow' });
  });

  it('unreadable YAML is a config error naming the file', () => {
    expect(issuesOf(() => load({}, 'server: [unclosed'))[0]).toMatch(/^x\.yaml: /);
  });
});
