import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { SluiceError } from '../../adapters/spec/index.js';

/**
 * Fetching a URL a caller handed us is server-side request forgery waiting to happen: the gateway
 * sits next to Redis, Postgres, the sidecar and a cloud metadata service. So the host is resolved
 * first, every address it resolves to is vetted, the connection goes to the vetted address (never
 * a second lookup, which DNS rebinding would answer differently), redirects are followed by hand
 * and vetted again, and the body is capped in size and time.
 */

/** Address ranges no caller may make the gateway reach, with the word a refusal names. */
const BLOCKED: readonly { range: string; prefix: number; family: 'ipv4' | 'ipv6'; why: string }[] = [
  { range: '0.0.0.0', prefix: 8, family: 'ipv4', why: 'unspecified (0.0.0.0/8)' },
  { range: '10.0.0.0', prefix: 8, family: 'ipv4', why: 'private (10.0.0.0/8)' },
  { range: '100.64.0.0', prefix: 10, family: 'ipv4', why: 'carrier-grade NAT (100.64.0.0/10)' },
  { range: '127.0.0.0', prefix: 8, family: 'ipv4', why: 'loopback (127.0.0.0/8)' },
  { range: '169.254.0.0', prefix: 16, family: 'ipv4', why: 'link-local, cloud metadata (169.254.0.0/16)' },
  { range: '172.16.0.0', prefix: 12, family: 'ipv4', why: 'private (172.16.0.0/12)' },
  { range: '192.0.0.0', prefix: 24, family: 'ipv4', why: 'IETF protocol assignments (192.0.0.0/24)' },
  { range: '192.168.0.0', prefix: 16, family: 'ipv4', why: 'private (192.168.0.0/16)' },
  { range: '198.18.0.0', prefix: 15, family: 'ipv4', why: 'benchmarking (198.18.0.0/15)' },
  { range: '224.0.0.0', prefix: 4, family: 'ipv4', why: 'multicast (224.0.0.0/4)' },
  { range: '240.0.0.0', prefix: 4, family: 'ipv4', why: 'reserved (240.0.0.0/4)' },
  { range: '::', prefix: 128, family: 'ipv6', why: 'unspecified (::)' },
  { range: '::1', prefix: 128, family: 'ipv6', why: 'loopback (::1)' },
  { range: 'fc00::', prefix: 7, family: 'ipv6', why: 'unique-local (fc00::/7)' },
  { range: 'fe80::', prefix: 10, family: 'ipv6', why: 'link-local (fe80::/10)' },
  { range: 'ff00::', prefix: 8, family: 'ipv6', why: 'multicast (ff00::/8)' },
];

// One list per reason: node's BlockList also matches IPv4-mapped IPv6 (::ffff:127.0.0.1) against
// the IPv4 rules, so the mapped forms need no rules of their own.
const LISTS = BLOCKED.map((entry) => {
  const list = new BlockList();
  list.addSubnet(entry.range, entry.prefix, entry.family);
  return { list, why: entry.why };
});

/** Why the gateway must not connect to `address`, or undefined when it may. */
export function blockedReason(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return LISTS.find(({ list }) => list.check(address, type))?.why;
}

export type Resolver = (hostname: string) => Promise<readonly LookupAddress[]>;

/** Every address the system resolver gives for `hostname` (an IP literal resolves to itself). */
export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

export interface SafeFetchOptions {
  maxBytes: number;
  timeoutMs: number;
  /** Redirects followed, each target vetted like the first URL. */
  maxRedirects?: number;
  /** Hosts that may be fetched from at all (`*.example.com` for subdomains); any host when unset. */
  allowedHosts?: readonly string[];
  resolve?: Resolver;
  /** Why an address (of `hostname`) is refused; `blockedReason` unless a test needs a loopback server to pass as public. */
  vet?: (address: string, hostname: string) => string | undefined;
  signal?: AbortSignal;
  /** Named in errors: where the URL came from (`messages[0].content[1].image_url.url`). */
  param?: string;
}

export interface Fetched {
  data: Buffer;
  contentType?: string;
  /** The URL that answered, after redirects. */
  url: string;
}

/** The vetted target of one hop: the URL, and the one address the connection will use. */
/** The `images` settings a remote image is fetched under (config `images`). */
export interface ImageFetchSettings {
  max_bytes: number;
  fetch_timeout_ms: number;
  allowed_hosts?: readonly string[];
}

/** A remote image under the `images` settings: one mapping of them for every caller (chat images, CLIP inputs). */
export function fetchRemoteImage(url: string, settings: ImageFetchSettings, call: Pick<SafeFetchOptions, 'signal' | 'param' | 'resolve' | 'vet'>): Promise<Fetched> {
  return safeFetch(url, { maxBytes: settings.max_bytes, timeoutMs: settings.fetch_timeout_ms, allowedHosts: settings.allowed_hosts, ...call });
}

export interface VettedTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** GET `url` under the rules above; refusals and failures are invalid-request errors naming `param`. */
export async function safeFetch(url: string, options: SafeFetchOptions): Promise<Fetched> {
  const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]) : AbortSignal.timeout(options.timeoutMs);
  const maxRedirects = options.maxRedirects ?? 3;
  let current = url;
  for (let hop = 0; ; hop += 1) {
    const target = await vetUrl(current, options);
    const response = await get(target, signal, options);
    const location = response.headers.location;
    if (REDIRECTS.has(response.statusCode ?? 0) && location) {
      response.resume();
      if (hop >= maxRedirects) throw refused(options, `${url} redirected more than ${maxRedirects} times`);
      current = new URL(location, target.url).toString();
      continue;
    }
    if (response.statusCode !== 200) {
      response.resume();
      throw refused(options, `fetching ${current} answered HTTP ${response.statusCode}`);
    }
    const data = await readCapped(response, options, signal);
    return { data, contentType: response.headers['content-type'], url: current };
  }
}

/** Parses, checks scheme and host, resolves, and refuses the URL if any address it resolves to is blocked. */
export async function vetUrl(url: string, options: Pick<SafeFetchOptions, 'allowedHosts' | 'resolve' | 'vet' | 'param'>): Promise<VettedTarget> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refused(options, `${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw refused(options, `${parsed.protocol} URLs cannot be fetched: only http and https`);
  if (parsed.username || parsed.password) throw refused(options, 'URLs with credentials cannot be fetched');
  const hostname = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (options.allowedHosts && !options.allowedHosts.some((allowed) => hostMatches(hostname, allowed))) {
    throw refused(options, `the host ${hostname} is not in images.allowed_hosts`);
  }
  let addresses: readonly LookupAddress[];
  try {
    addresses = await (options.resolve ?? systemResolver)(hostname);
  } catch (error) {
    throw refused(options, `the host ${hostname} does not resolve (${(error as Error).message})`);
  }
  if (addresses.length === 0) throw refused(options, `the host ${hostname} does not resolve`);
  const vet = options.vet ?? blockedReason;
  // Every address, not only the first: a host answering one public and one private address could
  // otherwise be reached on the private one by a client that retries.
  for (const { address } of addresses) {
    const why = vet(address, hostname);
    if (why) throw refused(options, `${url} is refused: ${hostname} resolves to ${address}, a ${why} address`);
  }
  const first = addresses[0]!;
  return { url: parsed, address: first.address, family: first.family === 6 ? 6 : 4 };
}

function hostMatches(hostname: string, allowed: string): boolean {
  const host = hostname.toLowerCase();
  const rule = allowed.toLowerCase();
  return rule.startsWith('*.') ? host.endsWith(rule.slice(1)) : host === rule;
}

/** One GET to the vetted address: the lookup is pinned, so Host and TLS SNI still name the host. */
function get(target: VettedTarget, signal: AbortSignal, options: SafeFetchOptions): Promise<IncomingMessage> {
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    if (lookupOptions.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  const send = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(target.url, { method: 'GET', lookup: pinned, signal, headers: { accept: 'image/*', 'user-agent': 'sluice-gateway' } }, resolve);
    request.on('error', (error) => reject(signal.aborted ? refused(options, `fetching ${target.url.toString()} took longer than its limit`) : refused(options, `fetching ${target.url.toString()} failed: ${error.message}`)));
    request.end();
  });
}

async function readCapped(response: IncomingMessage, options: SafeFetchOptions, signal: AbortSignal): Promise<Buffer> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    response.destroy();
    throw refused(options, `the image is ${declared} bytes, over images.max_bytes (${options.maxBytes})`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response) {
      size += (chunk as Buffer).length;
      if (size > options.maxBytes) {
        response.destroy();
        throw refused(options, `the image is over images.max_bytes (${options.maxBytes})`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof SluiceError) throw error;
    throw refused(options, signal.aborted ? 'fetching the image took longer than its limit' : `reading the image failed: ${(error as Error).message}`);
  }
  return Buffer.concat(chunks);
}

function refused(options: Pick<SafeFetchOptions, 'param'>, message: string): SluiceError {
  return new SluiceError('invalid-request', message, { param: options.param, code: 'invalid_image_url' });
}
