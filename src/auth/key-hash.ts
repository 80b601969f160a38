import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * How a virtual key is kept: HMAC-SHA-256 under a server-side pepper, of the key's SHA-256.
 *
 * Keyed, not slow: the keys Sluice makes carry 192 random bits, which no offline search recovers
 * from any hash, so what a stolen keys.json must not allow is checking guesses of a weak key an
 * operator chose, and the pepper (kept out of the data directory) stops that at any hash speed. A
 * slow hash (scrypt) would cost tens of milliseconds per unknown key presented — a free denial of
 * service without a cache of failures — and, salted per key, could not be looked up by value.
 *
 * Of the key's SHA-256, not of the key: the config file and key files from before the pepper list
 * keys by that SHA-256, and a record upgraded from one is the same HMAC a fresh one would be.
 */
export interface KeyHasher {
  /** The stored form of a presented key: 32 bytes. */
  digest(presented: string): Buffer;
  /** The stored form of a key known only by its SHA-256 (hex): legacy records, `auth.keys`. */
  digestOfSha256(sha256Hex: string): Buffer;
  /** Names the pepper without revealing it, so records made under another one are recognised. */
  readonly pepperId: string;
}

export type PepperSource = 'configured' | 'master-key' | 'ephemeral';

const PEPPER_LABEL = 'sluice/key-pepper/v1';
const PEPPER_ID_LABEL = 'sluice/key-pepper-id/v1';

/**
 * The pepper: `auth.key_pepper` (SLUICE_KEY_PEPPER) when set; else derived from the master key, so
 * a gateway configured with only SLUICE_MASTER_KEY needs nothing more; else random for this process
 * (no master key: no admin API, so no key file to keep readable across restarts).
 */
export function keyHasher(configuredPepper: string | undefined, masterKey: string | undefined): KeyHasher & { source: PepperSource } {
  const source: PepperSource = configuredPepper ? 'configured' : masterKey ? 'master-key' : 'ephemeral';
  const pepper = configuredPepper
    ? Buffer.from(configuredPepper, 'utf8')
    : masterKey
      ? createHmac('sha256', masterKey).update(PEPPER_LABEL).digest()
      : randomBytes(32);
  const digestOfBytes = (bytes: Buffer) => createHmac('sha256', pepper).update(bytes).digest();
  return {
    source,
    pepperId: createHmac('sha256', pepper).update(PEPPER_ID_LABEL).digest('hex').slice(0, 16),
    digest: (presented) => digestOfBytes(createHash('sha256').update(presented).digest()),
    digestOfSha256: (sha256Hex) => digestOfBytes(Buffer.from(sha256Hex, 'hex')),
  };
}

/** Equal digests, compared in constant time (both are 32 bytes by construction). */
export function isSameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
