import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { CliError } from './command-context.js';
import type { DownloadProgress } from './download-progress.js';
import { hashFileInto } from './file-sha256.js';
import type { FileResponse, HubClient } from './hub-client.js';

/** No byte for this long and the download is given up (the `.part` stays, to resume). */
export const DEFAULT_STALL_TIMEOUT_MS = 60_000;

export interface DownloadRequest {
  repo: string;
  revision: string;
  /** Path inside the repo. */
  file: string;
  /** Absolute path of the final file; bytes go to `${destination}.part` until verified. */
  destination: string;
  /** What the caller says the sha256 must be (`--sha256`); wins over the hub's. */
  expectedSha256?: string;
  /** Shown on the progress line. */
  label: string;
  stallTimeoutMs?: number;
}

export interface DownloadResult {
  sha256: string;
  size: number;
  commit: string | undefined;
  /** What the sha256 was checked against; undefined when nothing gave one. */
  verifiedAgainst: '--sha256' | 'hub' | undefined;
  resumedFromBytes: number;
}

const sizeOf = (path: string) =>
  stat(path).then(
    (info) => info.size,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return 0;
      throw error;
    },
  );

/**
 * Streams one file into `.part` (resuming it with a Range request when the server allows),
 * hashing as it goes, and moves it into place only when the sha256 matches. A mismatch deletes
 * the part; an interrupted transfer keeps it for the next run.
 */
export async function downloadFile(hub: HubClient, request: DownloadRequest, progress: DownloadProgress): Promise<DownloadResult> {
  const partPath = `${request.destination}.part`;
  await mkdir(dirname(partPath), { recursive: true });
  let startByte = await sizeOf(partPath);
  let hash = createHash('sha256');
  await hashFileInto(hash, partPath, startByte);
  const stall = new AbortController();
  const stallMs = request.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const stallTimer = setTimeout(() => stall.abort(new CliError(`${request.label}: no data for ${stallMs / 1000}s; run the same command again to resume`)), stallMs);
  try {
    let opened = await hub.openFile(request.repo, request.revision, request.file, startByte, stall.signal);
    if (startByte > 0 && !isUsableResume(opened, startByte)) {
      // A 200 ignored the range and brings the whole file; anything else (a range that starts
      // elsewhere, a 416 for a part longer than the file) means asking again from byte 0.
      startByte = 0;
      hash = createHash('sha256');
      if (opened.response.status !== 200) {
        await opened.response.body?.cancel();
        await rm(partPath, { force: true });
        opened = await hub.openFile(request.repo, request.revision, request.file, 0, stall.signal);
      }
    }
    if (startByte === 0 && opened.response.status === 416) throw new CliError(`${request.label}: the hub answered 416 to a request without a range`);
    const expected = await expectation(request, opened);
    if (opened.response.status === 416) await opened.response.body?.cancel(); // the part holds every byte
    else await receive(opened, partPath, startByte, { hash, progress, request, stallTimer, stalled: stall.signal });

    const size = await sizeOf(partPath);
    if (opened.totalBytes !== undefined && size !== opened.totalBytes) {
      throw new CliError(`${request.label}: the transfer ended at ${size} of ${opened.totalBytes} bytes; run the same command again to resume`);
    }
    const sha256 = hash.digest('hex');
    if (expected && sha256 !== expected.sha256) {
      await rm(partPath, { force: true });
      const hint = startByte > 0 ? ' (it resumed an earlier .part, perhaps of another version: run again to download afresh)' : '';
      throw new CliError(`${request.label}: sha256 mismatch: expected ${expected.sha256} (${expected.source}), got ${sha256}; the download was deleted${hint}`);
    }
    await rename(partPath, request.destination);
    return { sha256, size, commit: opened.commit, verifiedAgainst: expected?.source, resumedFromBytes: startByte };
  } catch (error) {
    progress.abandon();
    throw error;
  } finally {
    clearTimeout(stallTimer);
  }
}

/** A 206 that starts where the part ends, or a 416 because the part already holds every byte. */
function isUsableResume(opened: FileResponse, startByte: number): boolean {
  const { status, headers } = opened.response;
  if (status === 416) return opened.totalBytes === startByte;
  return status === 206 && headers.get('content-range')?.match(/^bytes\s+(\d+)-/)?.[1] === String(startByte);
}

async function expectation(request: DownloadRequest, opened: FileResponse) {
  if (request.expectedSha256 && opened.hubSha256 && request.expectedSha256 !== opened.hubSha256) {
    await opened.response.body?.cancel();
    throw new CliError(`${request.label}: --sha256 ${request.expectedSha256} differs from the hub's sha256 ${opened.hubSha256}; nothing was downloaded`);
  }
  if (request.expectedSha256) return { sha256: request.expectedSha256, source: '--sha256' as const };
  if (opened.hubSha256) return { sha256: opened.hubSha256, source: 'hub' as const };
  return undefined;
}

async function receive(
  opened: FileResponse,
  partPath: string,
  startByte: number,
  sinks: { hash: ReturnType<typeof createHash>; progress: DownloadProgress; request: DownloadRequest; stallTimer: NodeJS.Timeout; stalled: AbortSignal },
): Promise<void> {
  const { hash, progress, request, stallTimer, stalled } = sinks;
  const body = opened.response.body;
  if (!body) throw new CliError(`${request.label}: the hub sent no body`);
  progress.start(request.label, opened.totalBytes, startByte);
  let receivedBytes = 0;
  try {
    await pipeline(
      Readable.fromWeb(body as WebReadableStream<Uint8Array>),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          receivedBytes += chunk.length;
          progress.advance(chunk.length);
          stallTimer.refresh();
          yield chunk;
        }
      },
      createWriteStream(partPath, { flags: startByte > 0 ? 'a' : 'w' }),
    );
  } catch (error) {
    if (stalled.aborted) throw stalled.reason;
    if (error instanceof CliError) throw error;
    const reason = (error as Error).message;
    throw new CliError(`${request.label}: the transfer broke after ${startByte + receivedBytes} bytes (${reason}); run the same command again to resume`);
  }
}
