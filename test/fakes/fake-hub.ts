import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A Hugging Face-style hub on loopback, speaking the wire `sluice models pull` meets on
 * huggingface.co, as two servers (two origins, like huggingface.co and its CDN):
 *
 * - hub `GET /api/models/{repo}/revision/{rev}`: `{ id, sha, gated, siblings: [{ rfilename }] }`
 *   (a gated repo lists without a token, as on HF).
 * - hub `GET /{repo}/resolve/{rev}/{file}`: an LFS file (anything but .json/.md/.txt/.gitattributes)
 *   answers 302 to the CDN with `x-linked-etag: "<sha256>"`, `x-linked-size` and `x-repo-commit`;
 *   a small file answers 200 itself with its git blob sha1 as `etag`.
 * - CDN `GET /repos/…/{sha256}?X-Amz-Signature=…`: the bytes with `etag: "<sha256>"`,
 *   `content-length`, `accept-ranges: bytes`, 206 + `content-range` for a Range, 416 past the end;
 *   a request that also carries `authorization` gets S3's 400 (one auth mechanism only).
 * - Errors as HF sends them, with `x-error-code` / `x-error-message`: 401 GatedRepo for a gated
 *   repo without the token, 401 RepoNotFound for an unknown repo without a token (404 with one),
 *   404 RevisionNotFound, 404 EntryNotFound.
 *
 * Revisions: `main` and the repo's commit sha.
 */
export interface FakeHubRepo {
  files: Record<string, Buffer>;
  /** Downloads need `authorization: Bearer <token>`. */
  gated?: boolean;
  /** The CDN serves each file with one byte flipped; the headers keep the true sha256. */
  corrupt?: boolean;
}

export interface FakeHubOptions {
  repos: Record<string, FakeHubRepo>;
  /** Default true; false: Range is ignored (200, whole file) and no `accept-ranges` is sent. */
  acceptRanges?: boolean;
}

export interface FakeHubRequest {
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  status: number;
}

export interface FakeHub {
  url: string;
  cdnUrl: string;
  /** The token gated repos accept. */
  token: string;
  requests: FakeHubRequest[];
  commitOf(repo: string): string;
  /** The next CDN download sends this many bytes of its body, then drops the connection or, with 'stall', goes quiet. */
  cutNextDownloadAfter(bytes: number, how?: 'drop' | 'stall'): void;
  close(): Promise<void>;
}

interface Cut {
  bytes: number;
  how: 'drop' | 'stall';
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const gitBlobSha1 = (bytes: Buffer) => createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
const isLfs = (file: string) => !/(\.(json|md|txt)|^\.gitattributes)$/.test(file);

export async function startFakeHub(options: FakeHubOptions): Promise<FakeHub> {
  const token = 'hf_fake_token_0123456789';
  const acceptRanges = options.acceptRanges ?? true;
  const requests: FakeHubRequest[] = [];
  const commits = new Map(Object.keys(options.repos).map((repo) => [repo, createHash('sha1').update(repo).digest('hex')]));
  const blobs = new Map<string, { bytes: Buffer; repo: FakeHubRepo }>();
  for (const repo of Object.values(options.repos)) {
    for (const bytes of Object.values(repo.files)) blobs.set(sha256(bytes), { bytes, repo });
  }
  let cut: Cut | undefined;
  let cdnUrl = '';

  const hasToken = (request: IncomingMessage) => request.headers.authorization === `Bearer ${token}`;

  const hub = createServer((request, response) => {
    record(requests, 'hub', request, response);
    const path = new URL(request.url ?? '/', 'http://hub').pathname;
    const info = path.match(/^\/api\/models\/(.+)\/revision\/([^/]+)$/);
    const resolve = path.match(/^\/(.+?)\/resolve\/([^/]+)\/(.+)$/);
    const match = info ?? resolve;
    if (!match) return sendError(response, 404, undefined, 'Not Found');
    const [repoId, revision] = [decodeURIComponent(match[1]), decodeURIComponent(match[2])];
    const repo = options.repos[repoId];
    if (!repo) return sendError(response, hasToken(request) ? 404 : 401, 'RepoNotFound', 'Repository not found');
    if (revision !== 'main' && revision !== commits.get(repoId)) return sendError(response, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
    const commit = commits.get(repoId)!;
    response.setHeader('x-repo-commit', commit);
    if (info) {
      const siblings = Object.keys(repo.files).map((rfilename) => ({ rfilename }));
      return sendJson(response, { _id: commit.slice(0, 24), id: repoId, modelId: repoId, sha: commit, private: false, gated: repo.gated ? 'auto' : false, siblings });
    }
    if (repo.gated && !hasToken(request)) {
      return sendError(response, 401, 'GatedRepo', `Access to model ${repoId} is restricted. You must have access to it and be authenticated to access it. Please log in.`);
    }
    const file = resolve![3].split('/').map(decodeURIComponent).join('/');
    const bytes = repo.files[file];
    if (!bytes) return sendError(response, 404, 'EntryNotFound', `${file} does not exist on "${revision}"`);
    if (!isLfs(file)) return sendBytes(request, response, bytes, `"${gitBlobSha1(bytes)}"`, acceptRanges);
    const digest = sha256(bytes);
    response.writeHead(302, {
      location: `${cdnUrl}/repos/${digest.slice(0, 2)}/${digest.slice(2, 4)}/${digest}?X-Amz-Signature=fake&response-content-disposition=attachment`,
      'x-linked-etag': `"${digest}"`,
      'x-linked-size': String(bytes.length),
      'content-type': 'text/plain; charset=utf-8',
    });
    response.end(`Found. Redirecting to ${cdnUrl}/repos/…/${digest}`);
  });

  const cdn = createServer((request, response) => {
    record(requests, 'cdn', request, response);
    const digest = new URL(request.url ?? '/', 'http://cdn').pathname.match(/\/repos\/[0-9a-f]{2}\/[0-9a-f]{2}\/([0-9a-f]{64})$/)?.[1];
    const blob = digest && blobs.get(digest);
    if (!blob) return sendXml(response, 404, 'NoSuchKey', 'The specified key does not exist.');
    if (request.headers.authorization) {
      return sendXml(response, 400, 'InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified');
    }
    let bytes = blob.bytes;
    if (blob.repo.corrupt) {
      bytes = Buffer.from(bytes);
      bytes[bytes.length >> 1] ^= 0xff;
    }
    sendBytes(request, response, bytes, `"${digest}"`, acceptRanges, cut);
    cut = undefined;
  });

  const [hubPort, cdnPort] = await Promise.all([listen(hub), listen(cdn)]);
  cdnUrl = `http://127.0.0.1:${cdnPort}`;
  return {
    url: `http://127.0.0.1:${hubPort}`,
    cdnUrl,
    token,
    requests,
    commitOf: (repo) => commits.get(repo)!,
    cutNextDownloadAfter: (bytes, how = 'drop') => {
      cut = { bytes, how };
    },
    close: async () => {
      await Promise.all([hub, cdn].map((server) => new Promise((done) => server.close(done).closeAllConnections())));
    },
  };
}

function record(requests: FakeHubRequest[], server: FakeHubRequest['server'], request: IncomingMessage, response: ServerResponse): void {
  const entry: FakeHubRequest = { server, method: request.method ?? 'GET', path: request.url ?? '/', headers: request.headers, status: 0 };
  requests.push(entry);
  response.on('finish', () => (entry.status = response.statusCode)).on('close', () => (entry.status ||= response.statusCode));
}

/** A 200, or for `Range: bytes=a-[b]` a 206 (416 when a is past the end). */
function sendBytes(request: IncomingMessage, response: ServerResponse, bytes: Buffer, etag: string, acceptRanges: boolean, cut?: Cut): void {
  const headers: Record<string, string> = { etag, 'content-type': 'application/octet-stream' };
  if (acceptRanges) headers['accept-ranges'] = 'bytes';
  const range = acceptRanges ? request.headers.range?.match(/^bytes=(\d+)-(\d*)$/) : null;
  let body = bytes;
  let status = 200;
  if (range) {
    const start = Number(range[1]);
    const end = range[2] ? Math.min(Number(range[2]), bytes.length - 1) : bytes.length - 1;
    if (start >= bytes.length) {
      response.writeHead(416, { ...headers, 'content-range': `bytes */${bytes.length}` });
      return void response.end();
    }
    body = bytes.subarray(start, end + 1);
    status = 206;
    headers['content-range'] = `bytes ${start}-${end}/${bytes.length}`;
  }
  response.writeHead(status, { ...headers, 'content-length': String(body.length) });
  if (request.method === 'HEAD') return void response.end();
  if (cut === undefined) return void response.end(body);
  // Flushed to the socket first, so the client really holds these bytes when the connection drops.
  // A stalled answer stays open until the client gives up (or close() ends every connection).
  response.write(body.subarray(0, cut.bytes), () => (cut.how === 'drop' ? response.destroy() : undefined));
}

function sendJson(response: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function sendError(response: ServerResponse, status: number, code: string | undefined, message: string): void {
  const text = JSON.stringify({ error: message });
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...(code ? { 'x-error-code': code, 'x-error-message': message } : {}),
  });
  response.end(text);
}

function sendXml(response: ServerResponse, status: number, code: string, message: string): void {
  response.writeHead(status, { 'content-type': 'application/xml' });
  response.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

function listen(server: Server): Promise<number> {
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done((server.address() as AddressInfo).port)));
}
