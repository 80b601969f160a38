import { CliError } from './command-context.js';
import { SHA256_HEX } from './file-sha256.js';

export const DEFAULT_HUB_URL = 'https://huggingface.co';
const MAX_REDIRECTS = 10;
const USER_AGENT = 'sluice-cli/0.1';

/** `${hub}/${repo}/resolve/${revision}/${file}`; the revision is one segment (`refs/pr/1` → `refs%2Fpr%2F1`). */
export function fileUrl(hubUrl: string, repo: string, revision: string, file: string): string {
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${hubUrl}/${repo}/resolve/${encodeURIComponent(revision)}/${path}`;
}

export function repoInfoUrl(hubUrl: string, repo: string, revision: string): string {
  return `${hubUrl}/api/models/${repo}/revision/${encodeURIComponent(revision)}`;
}

/**
 * The sha256 in an ETag, if it is one. For LFS files the hub sends the file's sha256 as
 * `x-linked-etag` on the resolve answer (and the CDN as `etag`); small files get the git blob's
 * sha1, which is 40 hex digits and so not taken.
 */
export function sha256FromEtag(etag: string | null | undefined): string | undefined {
  const bare = etag?.trim().replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase();
  return bare && SHA256_HEX.test(bare) ? bare : undefined;
}

// `bytes 100-199/1000` → { start: 100, total: 1000 }; a 416's `bytes */1000` → { total: 1000 }.
export function parseContentRange(header: string | null): { start?: number; total?: number } | undefined {
  const match = header?.match(/^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/);
  if (!match) return undefined;
  return {
    start: match[1] === undefined ? undefined : Number(match[1]),
    total: match[2] === '*' ? undefined : Number(match[2]),
  };
}

function optionalNumber(header: string | null): number | undefined {
  return header !== null && /^\d+$/.test(header) ? Number(header) : undefined;
}

/** What the hub said about a file before its bytes: the answer to stream, and what to check it by. */
export interface FileResponse {
  response: Response;
  /** The hub's sha256 for the file, from `x-linked-etag` or `etag`, when it gave one. */
  hubSha256: string | undefined;
  /** The whole file's size, when known (`x-linked-size`, `content-range`, or `content-length` of a 200). */
  totalBytes: number | undefined;
  commit: string | undefined;
}

export class HubClient {
  constructor(
    readonly hubUrl: string,
    private readonly token: string | undefined,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /** The repo's files at `revision` (HF: `siblings[].rfilename`), and the commit it resolved to. */
  async listFiles(repo: string, revision: string, signal?: AbortSignal): Promise<{ files: string[]; commit?: string }> {
    const what = `${repo}@${revision}`;
    const response = await this.get(repoInfoUrl(this.hubUrl, repo, revision), {}, what, signal);
    if (!response.ok) throw await this.failure(response, what);
    const body = (await response.json()) as { sha?: unknown; siblings?: Array<{ rfilename?: unknown }> };
    if (!Array.isArray(body.siblings)) throw new CliError(`${what}: the hub's answer has no "siblings" list (is ${this.hubUrl} a Hugging Face-style hub?)`);
    const files = body.siblings.map((sibling) => sibling.rfilename).filter((name): name is string => typeof name === 'string');
    return { files, commit: typeof body.sha === 'string' ? body.sha : undefined };
  }

  /**
   * GETs a file from `startByte` on (a Range request when > 0). The answer is 200 (whole file,
   * the server ignored the range), 206 (the rest) or 416 (nothing left: the part may be complete);
   * anything else is thrown as a CliError.
   */
  async openFile(repo: string, revision: string, file: string, startByte: number, signal?: AbortSignal): Promise<FileResponse> {
    const what = `${repo}@${revision}: ${file}`;
    const headers: Record<string, string> = startByte > 0 ? { range: `bytes=${startByte}-` } : {};
    const linked: { sha256?: string; size?: number; commit?: string } = {};
    const response = await this.get(fileUrl(this.hubUrl, repo, revision, file), headers, what, signal, (hop) => {
      linked.sha256 ??= sha256FromEtag(hop.headers.get('x-linked-etag'));
      linked.size ??= optionalNumber(hop.headers.get('x-linked-size'));
      linked.commit ??= hop.headers.get('x-repo-commit') ?? undefined;
    });
    if (!response.ok && response.status !== 416) throw await this.failure(response, what);
    const range = parseContentRange(response.headers.get('content-range'));
    const wholeLength = response.status === 200 ? optionalNumber(response.headers.get('content-length')) : undefined;
    return {
      response,
      hubSha256: linked.sha256 ?? sha256FromEtag(response.headers.get('x-linked-etag')) ?? sha256FromEtag(response.headers.get('etag')),
      totalBytes: linked.size ?? range?.total ?? wholeLength,
      commit: linked.commit ?? response.headers.get('x-repo-commit') ?? undefined,
    };
  }

  /**
   * Follows redirects by hand: the token goes only to the hub's own origin, never to the CDN a
   * redirect points at (HF sends LFS downloads to a signed CDN URL, which rejects a second
   * credential), and `onHop` sees each answer, since the sha256 headers are on the redirect.
   */
  private async get(
    url: string,
    headers: Record<string, string>,
    what: string,
    signal: AbortSignal | undefined,
    onHop: (response: Response) => void = () => {},
  ): Promise<Response> {
    const hubOrigin = new URL(this.hubUrl).origin;
    let current = url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop += 1) {
      const sent: Record<string, string> = { 'user-agent': USER_AGENT, ...headers };
      if (this.token && new URL(current).origin === hubOrigin) sent.authorization = `Bearer ${this.token}`;
      let response: Response;
      try {
        response = await this.fetchImpl(current, { headers: sent, redirect: 'manual', signal });
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        throw new CliError(`${what}: cannot reach ${new URL(current).origin} (${cause?.code ?? cause?.message ?? (error as Error).message})`);
      }
      onHop(response);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return response;
      await response.body?.cancel();
      current = new URL(location, current).href;
    }
    throw new CliError(`${what}: more than ${MAX_REDIRECTS} redirects`);
  }

  /** HF's error headers (`x-error-code`, `x-error-message`) or JSON body, said in the user's terms. */
  private async failure(response: Response, what: string): Promise<CliError> {
    const code = response.headers.get('x-error-code');
    let detail = response.headers.get('x-error-message') ?? '';
    if (!detail) {
      const text = await response.text().catch(() => '');
      try {
        const error = (JSON.parse(text) as { error?: unknown }).error;
        if (typeof error === 'string') detail = error;
      } catch {
        detail = ''; // an HTML error page says nothing worth repeating
      }
    }
    const said = `${response.status}${code ? ` ${code}` : ''}${detail ? `: ${detail}` : ''}`;
    // Without a token the hub answers 401 RepoNotFound for a repo that does not exist, so as not
    // to reveal private ones.
    if (code === 'RepoNotFound' && (response.status === 401 || response.status === 404)) {
      return new CliError(`${what}: no such repo on ${this.hubUrl}${this.token ? '' : ', or it is private (then set HF_TOKEN)'} (${said})`);
    }
    switch (response.status) {
      case 401:
        return new CliError(
          this.token
            ? `${what}: the hub refused the token in HF_TOKEN (${said})`
            : `${what}: the repo is gated or private and needs a token: set HF_TOKEN to a token with access (${said})`,
        );
      case 403:
        return new CliError(`${what}: access denied; accept the repo's terms on the hub with the account whose token is in HF_TOKEN (${said})`);
      case 404:
        return new CliError(`${what}: not found on ${this.hubUrl}; check the repo, the revision and the file name (${said})`);
      case 429:
        return new CliError(`${what}: the hub is rate limiting (${said}); try again later`);
      default:
        return new CliError(`${what}: the hub answered ${said || response.statusText}`);
    }
  }
}
