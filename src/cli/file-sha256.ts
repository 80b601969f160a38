import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Feeds a file (or its first `endByte` bytes) through `hash` without loading it whole. */
export async function hashFileInto(hash: Hash, path: string, endByte?: number): Promise<void> {
  if (endByte === 0) return;
  const stream = createReadStream(path, endByte === undefined ? {} : { end: endByte - 1 });
  for await (const chunk of stream) hash.update(chunk as Buffer);
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await hashFileInto(hash, path);
  return hash.digest('hex');
}
