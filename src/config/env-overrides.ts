/**
 * The one table from environment variable to config field (DESIGN.md §3). Values from the
 * environment win over the file.
 */
// The raw tree from YAML and the environment, before zod has checked it: untyped by nature.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Setter = (config: Record<string, any>, value: string) => void;

const at =
  (path: string[], parse: (value: string) => unknown = (value) => value): Setter =>
  (config, value) => {
    let node = config;
    for (const key of path.slice(0, -1)) node = node[key] ??= {};
    node[path[path.length - 1]] = parse(value);
  };

const number = (value: string) => (value.trim() === '' ? value : Number(value));

const backendField = (backendId: string, field: string): Setter => (config, value) => {
  const backend = config.backends?.[backendId];
  if (backend) backend[field] = value; // a backend the file does not declare stays undeclared
};

export const ENV_OVERRIDES: Record<string, Setter> = {
  PORT: at(['server', 'port'], number),
  HOST: at(['server', 'host']),
  LOG_LEVEL: at(['server', 'log_level']),
  SLUICE_DATA_DIR: at(['paths', 'data_dir']),
  SLUICE_MODELS_DIR: at(['paths', 'models_dir']),
  SLUICE_MASTER_KEY: at(['auth', 'master_key']),
  SLUICE_KEY_PEPPER: at(['auth', 'key_pepper']),
  SLUICE_MONTHLY_BUDGET_USD: at(['budget', 'monthly_usd'], number),
  OPENAI_BASE_URL: backendField('openai', 'base_url'),
  ANTHROPIC_BASE_URL: backendField('anthropic', 'base_url'),
  DEEPSEEK_BASE_URL: backendField('deepseek', 'base_url'),
  REDIS_URL: at(['storage', 'redis_url']),
  DATABASE_URL: at(['storage', 'database_url']),
  SUPABASE_URL: at(['storage', 'supabase_url']),
  SUPABASE_SERVICE_ROLE_KEY: at(['storage', 'supabase_service_role_key']),
  SIDECAR_URL: backendField('sidecar', 'base_url'),
};

/** Applies the table, then fills each backend's `api_key` from the variable its `api_key_env` names. */
export function applyEnvOverrides(fromFile: unknown, env: NodeJS.ProcessEnv): Record<string, any> {
  const config: Record<string, any> = structuredClone((fromFile ?? {}) as Record<string, any>);
  for (const [name, set] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value !== undefined && value !== '') set(config, value);
  }
  for (const backend of Object.values<Record<string, any>>(config.backends ?? {})) {
    const variable = backend?.api_key_env;
    if (typeof variable === 'string' && env[variable]) backend.api_key = env[variable];
  }
  return config;
}
