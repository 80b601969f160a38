import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ModerationActions } from '../config/guardrail-schema.js';
import type { TenantKeyConfig } from '../config/schema.js';
import { isSameDigest, keyHasher, type KeyHasher } from './key-hash.js';
import { EVERY_PASSTHROUGH_PATH, type Tenant } from './tenant.js';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** What anyone may see of a key: no secret and no hash. */
export interface KeyRecord {
  name: string;
  /** The first characters of the key, so an operator can tell keys apart without the secret. */
  prefix?: string;
  allowed_models?: string[];
  monthly_budget_usd?: number;
  rate_limit_rpm?: number;
  /** Passthrough grants (`/v1/files`, `POST /v1/responses`); none when absent. */
  passthrough_paths?: string[];
  cache?: boolean;
  /** Chat moderation for this key's requests, over guardrails.moderation. */
  moderation?: ModerationActions;
  created_at?: string;
}

/** A key as kept in keys.json: HMAC-SHA-256 under the pepper (key-hash.ts), never the key. */
export interface StoredKey extends KeyRecord {
  key_hmac?: string;
  /** Which pepper made `key_hmac`: a record made under another one cannot match and is reported. */
  pepper_id?: string;
  /** Files written before the pepper: upgraded to `key_hmac` when read. */
  key_sha256?: string;
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

interface IndexedKey {
  digest: Buffer;
  tenant: Tenant;
}

/**
 * Keys verified since the last change, by the presented key: a hit costs a Map lookup instead of
 * two hashes (~5 µs here). V8 compares a Map key's content only once its 32-bit hash matches, so a
 * miss's timing says nothing about a cached key. Bounded; the oldest entry goes first. Unknown
 * keys are not remembered, so a flood of guesses cannot grow it (each costs its two hashes).
 */
const MAX_VERIFIED_KEYS = 10_000;

export interface KeyStoreOptions {
  /** `auth.key_pepper`; without it the pepper derives from the master key (key-hash.ts). */
  pepper?: string;
}

/**
 * Virtual keys by keyed hash: those in the config file plus those made through the admin API,
 * which are kept (HMACs only) in a JSON file under the data directory.
 */
export class KeyStore {
  private readonly configDigests: Buffer[];
  private created: StoredKey[];
  private readonly hasher: ReturnType<typeof keyHasher>;
  private readonly masterDigest: Buffer | undefined;
  private index = new Map<string, IndexedKey>();
  private readonly verified = new Map<string, Tenant>();
  /** Records in keys.json made under another pepper (a changed master key or SLUICE_KEY_PEPPER): they match nothing. */
  readonly unverifiableKeys: readonly string[];

  /**
   * @param grantableModels what `allowed_models` may name: the configured model ids, the routing
   *   aliases and `*`. The config schema checks its own keys against the same set.
   */
  constructor(
    private readonly configKeys: readonly TenantKeyConfig[],
    masterKey: string | undefined,
    private readonly file: string | undefined,
    private readonly grantableModels: ReadonlySet<string>,
    options: KeyStoreOptions = {},
  ) {
    this.hasher = keyHasher(options.pepper, masterKey);
    this.masterDigest = masterKey === undefined ? undefined : this.hasher.digest(masterKey);
    this.configDigests = configKeys.map((key) => this.hasher.digestOfSha256(key.key_sha256));
    const { records, upgraded } = upgradeLegacy(file ? readKeys(file) : [], this.hasher);
    this.created = records;
    this.unverifiableKeys = records.filter((record) => record.pepper_id !== this.hasher.pepperId).map((record) => record.name);
    if (upgraded) this.persist();
    this.reindex();
  }

  /** Open mode: nothing to check a key against. */
  get isOpen(): boolean {
    return !this.masterDigest && this.configKeys.length === 0 && this.created.length === 0;
  }

  /** Where the pepper comes from, for the start-up log. */
  get pepperSource(): string {
    return this.hasher.source;
  }

  isMaster(presented: string | undefined): boolean {
    return Boolean(this.masterDigest && presented) && this.lookup(presented!) === MASTER_TENANT;
  }

  /** The tenant a presented key belongs to, or undefined. */
  lookup(presented: string): Tenant | undefined {
    const cached = this.verified.get(presented);
    if (cached) return cached;
    const digest = this.hasher.digest(presented);
    let tenant: Tenant | undefined;
    if (this.masterDigest && isSameDigest(digest, this.masterDigest)) tenant = MASTER_TENANT;
    else {
      // The index is keyed by HMAC values, which a caller cannot aim at without the pepper.
      const entry = this.index.get(digest.toString('hex'));
      if (entry && isSameDigest(digest, entry.digest)) tenant = entry.tenant;
    }
    if (tenant) this.remember(presented, tenant);
    return tenant;
  }

  list(): KeyRecord[] {
    return [...this.configKeys, ...this.created].map(visibleOf);
  }

  /** Makes a key; the plaintext is returned once and never stored. `record` is what may be shown. */
  create(request: Omit<KeyRecord, 'prefix' | 'created_at'>): { key: string; record: KeyRecord } {
    if (this.list().some((key) => key.name === request.name)) throw new KeyRequestError(`a key named "${request.name}" exists`, 'name');
    request.allowed_models?.forEach((name, position) => {
      if (!this.grantableModels.has(name)) {
        throw new KeyRequestError(`allowed_models[${position}]: "${name}" is not a configured model, routing alias or "*"`, `allowed_models[${position}]`);
      }
    });
    const routeTo = request.moderation?.route_to;
    if (routeTo !== undefined && (!this.grantableModels.has(routeTo) || routeTo === '*')) {
      throw new KeyRequestError(`moderation.route_to: "${routeTo}" is not a configured model`, 'moderation.route_to');
    }
    const key = `sk-sluice-${randomBytes(24).toString('base64url')}`;
    const visible: KeyRecord = { ...request, prefix: key.slice(0, 14), created_at: new Date().toISOString() };
    this.created = [...this.created, { ...visible, key_hmac: this.hasher.digest(key).toString('hex'), pepper_id: this.hasher.pepperId }];
    this.persist();
    this.reindex();
    return { key, record: visible };
  }

  remove(name: string): boolean {
    const before = this.created.length;
    this.created = this.created.filter((key) => key.name !== name);
    if (this.created.length === before) return false;
    this.persist();
    this.reindex();
    return true;
  }

  private remember(presented: string, tenant: Tenant): void {
    if (this.verified.size >= MAX_VERIFIED_KEYS) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(presented, tenant);
  }

  /** After every change: a removed key must stop working at once, cached or not. */
  private reindex(): void {
    const index = new Map<string, IndexedKey>();
    this.configKeys.forEach((key, position) => index.set(this.configDigests[position].toString('hex'), { digest: this.configDigests[position], tenant: toTenant(key) }));
    for (const record of this.created) {
      if (!record.key_hmac) continue;
      index.set(record.key_hmac, { digest: Buffer.from(record.key_hmac, 'hex'), tenant: toTenant(record) });
    }
    this.index = index;
    this.verified.clear();
  }

  private persist(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.created, null, 2), { mode: 0o600 });
    renameSync(temporary, this.file);
  }
}

/** Records from before the pepper carry `key_sha256`: rewritten as the HMAC a new record would have. */
function upgradeLegacy(records: StoredKey[], hasher: KeyHasher): { records: StoredKey[]; upgraded: boolean } {
  let upgraded = false;
  const result = records.map((record) => {
    if (record.key_hmac || !record.key_sha256) return record;
    upgraded = true;
    const { key_sha256: sha256, ...rest } = record;
    return { ...rest, key_hmac: hasher.digestOfSha256(sha256).toString('hex'), pepper_id: hasher.pepperId };
  });
  return { records: result, upgraded };
}

function visibleOf(key: StoredKey | TenantKeyConfig): KeyRecord {
  const { key_sha256: _sha256, key_hmac: _hmac, pepper_id: _pepper, ...visible } = key as StoredKey;
  return visible;
}

function readKeys(file: string): StoredKey[] {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StoredKey[];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

function toTenant(key: KeyRecord): Tenant {
  return {
    id: key.name,
    name: key.name,
    allowedModels: key.allowed_models ? new Set(key.allowed_models) : undefined,
    monthlyBudgetUsd: key.monthly_budget_usd,
    rateLimitRpm: key.rate_limit_rpm,
    passthroughPaths: key.passthrough_paths,
    cache: key.cache,
    moderation: key.moderation,
  };
}
