import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { applyEnvOverrides } from './env-overrides.js';
import { configSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  constructor(readonly lines: string[]) {
    super(`invalid configuration:\n${lines.map((line) => `  ${line}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_CONFIG_PATH = 'config/sluice.yaml';

/** `models[2].fallback[0]` — a field's path as config errors and OpenAI's `param` both write it. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((key, index) => (typeof key === 'number' ? `[${key}]` : `${index === 0 ? '' : '.'}${String(key)}`)).join('');
}

/** `models[2].fallback[0]: unknown model "gpt-5x"` — one line per issue, naming the field. */
export function formatIssue(issue: z.core.$ZodIssue): string {
  return `${fieldPath(issue.path) || '(root)'}: ${issue.message}`;
}

export function parseConfig(raw: unknown): Config {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map(formatIssue));
  return deepFreeze(parsed.data);
}

export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  read: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): Config {
  const path = env.SLUICE_CONFIG ?? DEFAULT_CONFIG_PATH;
  let fromFile: unknown;
  try {
    fromFile = parseYaml(read(path));
  } catch (error) {
    throw new ConfigError([`${path}: ${(error as Error).message}`]);
  }
  return parseConfig(applyEnvOverrides(fromFile, env));
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}
