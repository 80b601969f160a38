import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../../../src/cli/command-context.js';
import { downloadFile } from '../../../src/cli/download-file.js';
import { createDownloadProgress } from '../../../src/cli/download-progress.js';
import { HubClient } from '../../../src/cli/hub-client.js';
import { startFakeHub, type FakeHub } from '../../fakes/fake-hub.js';

const WEIGHTS = randomBytes(256 * 1024);
const SHA = createHash('sha256').update(WEIGHTS).digest('hex');

let hub: FakeHub;
beforeAll(async () => {
  hub = await startFakeHub({ repos: { 'Org/Name': { files: { 'model.gguf': WEIGHTS } } } });
});
afterAll(() => hub.close());

const lines: string[] = [];
const progress = createDownloadProgress({ write: (text: string) => lines.push(text) });
const destinationIn = () => join(mkdtempSync(join(tmpdir(), 'sluice-download-')), 'model.gguf');
const download = (destination: string, expectedSha256?: string, stallTimeoutMs?: number) =>
  downloadFile(
    new HubClient(hub.url, undefined),
    { repo: 'Org/Name', revision: 'main', file: 'model.gguf', destination, expectedSha256, label: 'model.gguf', stallTimeoutMs },
    progress,
  );
const cdnSince = (start: number) => hub.requests.slice(start).filter((request) => request.server === 'cdn');

describe('downloading one file', () => {
  it('a part that already holds every byte is verified and moved into place without a body (416)', async () => {
    const destination = destinationIn();
    writeFileSync(`${destination}.part`, WEIGHTS);
    const start = hub.requests.length;
    expect(await download(destination)).toMatchObject({ sha256: SHA, size: WEIGHTS.length, verifiedAgainst: 'hub', resumedFromBytes: WEIGHTS.length });
    expect(cdnSince(start).map((request) => request.status)).toEqual([416]);
    expect(readFileSync(destination).equals(WEIGHTS)).toBe(true);
  });

  it('a part longer than the file is dropped and the file fetched from byte 0', async () => {
    const destination = destinationIn();
    writeFileSync(`${destination}.part`, randomBytes(WEIGHTS.length + 10));
    const start = hub.requests.length;
    expect(await download(destination)).toMatchObject({ sha256: SHA, resumedFromBytes: 0 });
    expect(cdnSince(start).map((request) => [request.headers.range, request.status])).toEqual([
      [`bytes=${WEIGHTS.length + 10}-`, 416],
      [undefined, 200],
    ]);
    expect(readFileSync(destination).equals(WEIGHTS)).toBe(true);
  });

  it('a resumed part from another version fails the check, is deleted, and says so', async () => {
    const destination = destinationIn();
    writeFileSync(`${destination}.part`, randomBytes(1000));
    const error: unknown = await download(destination).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toMatch(/sha256 mismatch: expected .* \(hub\), got .*the download was deleted \(it resumed an earlier \.part/);
    expect(existsSync(`${destination}.part`)).toBe(false);
    expect(existsSync(destination)).toBe(false);
  });

  it('a --sha256 that contradicts the hub stops before any byte is fetched', async () => {
    const destination = destinationIn();
    const start = hub.requests.length;
    await expect(download(destination, 'f'.repeat(64))).rejects.toThrow(`differs from the hub's sha256 ${SHA}; nothing was downloaded`);
    expect(cdnSince(start)).toHaveLength(1); // opened, then cancelled
    expect(existsSync(`${destination}.part`)).toBe(false);
  });

  it('gives up on a transfer that goes quiet, keeping the part to resume', async () => {
    const destination = destinationIn();
    hub.cutNextDownloadAfter(100_000, 'stall');
    await expect(download(destination, undefined, 300)).rejects.toThrow('model.gguf: no data for 0.3s; run the same command again to resume');
    const partBytes = readFileSync(`${destination}.part`).length;
    expect(partBytes).toBeGreaterThan(0);
    expect(await download(destination)).toMatchObject({ sha256: SHA, resumedFromBytes: partBytes });
  });
});
