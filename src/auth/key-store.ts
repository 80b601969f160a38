import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TenantKeyConfig } from '../config/schema.js';
import { EVERY_PASSTHROUGH_PATH, type Tenant } from './tenant.js';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface StoredKey {
  name: string;
  key_sha256: string;
  /** The first characters of the key, so an operator can tell keys apart without the secret. */
  prefix?: string;
  allowed_models?: string[];
  monthly_budget_usd?: number;
  rate_limit_rpm?: number;
  /** Passthrough grants (`/v1/files`, `POST /v1/responses`); none when absent. */
  passthrough_paths?: string[];
  cache?: boolean;
  created_at?: string;
}

/** The operator's own key: every model and every passthrough path. */
export const MASTER_TENANT: Tenant = Object.freeze({ id: 'master', name: 'master', passthroughPaths: EVERY_PASSTHROUGH_PATH });

/** A key request the store refuses, naming the field at fault (`allowed_models[1]`). */
export class KeyRequestError extends Error {
  constructor(
    message: string,
    readonly param: string,
  ) {
    super(message);
    this.name = 'KeyRequestError';
  }
}

/**
 * Virtual keys by hash: those in the config file plus those made through the admin API,
 * which are kept (hashes only) in a JSON file under the data directory.
 */
export class KeyStore {
  private readonly fromConfig: StoredKey[];
  private created: StoredKey[];

  /**
   * @param grantableModels what `allowed_models` may name: the configured model ids, the routing
   *   aliases and `*`. The config schema checks its own keys against the same set.
   */
  constructor(
    configKeys: readonly TenantKeyConfig[],
    private readonly masterKey: string | undefined,
    private readonly file: string | undefined,
    private readonly grantableModels: ReadonlySet<string>,
  ) {
    this.fromConfig = configKeys.map((key) => ({
      ...key,
      allowed_models: key.allowed_models && [...key.allowed_models],
      passthrough_paths: key.passthrough_paths && [...key.passthrough_paths],
    }));
    this.created = file ? readKeys(file) : [];
  }

  /** Open mode: nothing to check a key against. */
  get isOpen(): boolean {
    return !this.masterKey && this.fromConfig.length === 0 && this.created.length === 0;
  }

  isMaster(presented: string | undefined): boolean {
    if (!this.masterKey || !presented) return false;
    const a = Buffer.from(sha256Hex(presented));
    const b = Buffer.from(sha256Hex(this.masterKey));
    return timingSafeEqual(a, b);
  }

  /** The tenant a presented key belongs to, or undefined. */
  lookup(presented: string): Tenant | undefined {
    if (this.isMaster(presented)) return MASTER_TENANT;
    const hash = sha256Hex(presented);
    const key = [...this.fromConfig, ...this.created].find((candidate) => candidate.key_sha256 === hash);
    return key && toTenant(key);
  }

  list(): Omit<StoredKey, 'key_sha256'>[] {
    return [...this.fromConfig, ...this.created].map(({ key_sha256: _hash, ...visible }) => visible);
  }

  /** Makes a key; the plaintext is returned once and never stored. */
  create(request: Omit<StoredKey, 'key_sha256' | 'prefix' | 'created_at'>): { key: string; record: StoredKey } {
    if (this.list().some((key) => key.name === request.name)) throw new KeyRequestError(`a key named "${request.name}" exists`, 'name');
    request.allowed_models?.forEach((name, position) => {
      if (!this.grantableModels.has(name)) {
        throw new KeyRequestError(`allowed_models[${position}]: "${name}" is not a configured model, routing alias or "*"`, `allowed_models[${position}]`);
      }
    });
    const key = `sk-sluice-${randomBytes(24).toString('base64url')}`;
    const record: StoredKey = { ...request, key_sha256: sha256Hex(key), prefix: key.slice(0, 14), created_at: new Date().toISOString() };
    this.created = [...this.created, record];
    this.persist();
    return { key, record };
  }

  remove(name: string): boolean {
    const before = this.created.length;
    this.created = this.created.filter((key) => key.name !== name);
    if (this.created.length === before) return false;
    this.persist();
    return true;
  }

  private persist(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.created, null, 2), { mode: 0o600 });
    renameSync(temporary, this.file);
  }
}

function readKeys(file: string): StoredKey[] {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StoredKey[];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

function toTenant(key: StoredKey): Tenant {
  return {
    id: key.name,
    name: key.name,
    allowedModels: key.allowed_models ? new Set(key.allowed_models) : undefined,
    monthlyBudgetUsd: key.monthly_budget_usd,
    rateLimitRpm: key.rate_limit_rpm,
    passthroughPaths: key.passthrough_paths,
    cache: key.cache,
  };
}
