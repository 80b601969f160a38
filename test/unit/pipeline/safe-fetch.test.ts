/**
 * The SSRF rules of the gateway's one outbound fetch of a caller's URL (remote chat images): the
 * addresses it refuses, a hostname that resolves to one of them, and a redirect to one. The
 * redirect case needs a "public" first hop; on loopback that is a host name the test resolves
 * to its own server and vets as public, while the redirect target is vetted by the real rules.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluiceError } from '../../../adapters/spec/index.js';
import { blockedReason, safeFetch, type Resolver, type SafeFetchOptions } from '../../../src/pipeline/safe-fetch.js';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('pixels')]);

let server: Server;
let port: number;
const hits: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    hits.push(request.url ?? '');
    if (request.url === '/to-loopback') response.writeHead(302, { location: `http://127.0.0.1:${port}/secret` }).end();
    else if (request.url === '/to-metadata') response.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    else if (request.url === '/loop') response.writeHead(302, { location: '/loop' }).end();
    else if (request.url === '/big') response.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(4096));
    else if (request.url === '/slow') response.writeHead(200, { 'content-type': 'image/png' }).write(PNG);
    else response.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const LIMITS = { maxBytes: 1024, timeoutMs: 2_000, param: 'messages[0].content[0].image_url.url' } satisfies SafeFetchOptions;

/** `public.test` is this test's server, dressed up as a public host; every other name resolves as usual. */
const resolver: Resolver = async (hostname) => (hostname === 'public.test' ? [{ address: '127.0.0.1', family: 4 }] : [{ address: hostname, family: hostname.includes(':') ? 6 : 4 }]);
const asPublic = { resolve: resolver, vet: (address: string, hostname: string) => (hostname === 'public.test' ? undefined : blockedReason(address)) };

async function refusal(url: string, options: Partial<SafeFetchOptions> = {}): Promise<SluiceError> {
  try {
    await safeFetch(url, { ...LIMITS, ...options });
  } catch (error) {
    expect(error).toBeInstanceOf(SluiceError);
    return error as SluiceError;
  }
  throw new Error(`expected ${url} to be refused`);
}

describe('safeFetch refuses addresses inside the network', () => {
  it.each([
    ['127.0.0.1', 'http://127.0.0.1/x.png', /loopback/],
    ['localhost (the system resolver)', 'http://localhost/x.png', /loopback/],
    ['10.0.0.1', 'http://10.0.0.1/x.png', /private \(10\.0\.0\.0\/8\)/],
    ['172.16.5.4', 'http://172.16.5.4/x.png', /private \(172\.16/],
    ['192.168.1.1', 'https://192.168.1.1/x.png', /private \(192\.168/],
    ['the metadata address', 'http://169.254.169.254/latest/meta-data/', /link-local, cloud metadata/],
    ['CGNAT', 'http://100.64.0.7/x.png', /carrier-grade NAT/],
    ['[::1]', 'http://[::1]/x.png', /loopback \(::1\)/],
    ['[::ffff:127.0.0.1]', 'http://[::ffff:127.0.0.1]/x.png', /loopback \(127/],
    ['[::ffff:169.254.169.254]', 'http://[::ffff:169.254.169.254]/x.png', /metadata/],
    ['unique-local fd00::1', 'http://[fd00::1]/x.png', /unique-local/],
    ['0.0.0.0', 'http://0.0.0.0/x.png', /unspecified/],
    ['127.0.0.1 spelt as one number', 'http://2130706433/x.png', /loopback/],
  ])('%s', async (_case, url, reason) => {
    const error = await refusal(url);
    expect(error.kind).toBe('invalid-request');
    expect(error.detail.param).toBe(LIMITS.param);
    expect(error.message).toMatch(reason);
  });

  it('refuses a hostname that resolves to loopback, however public its name', async () => {
    const error = await refusal('http://images.example.com/cat.png', { resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    expect(error.message).toMatch(/images\.example\.com resolves to 127\.0\.0\.1, a loopback/);
  });

  it('refuses a host any of whose addresses is private, not only the first', async () => {
    const error = await refusal('http://mixed.example.com/cat.png', { resolve: async () => [{ address: '93.184.216.34', family: 4 }, { address: '10.1.2.3', family: 4 }] });
    expect(error.message).toMatch(/10\.1\.2\.3, a private/);
  });

  it('really refuses the loopback server: nothing reaches it', async () => {
    const before = hits.length;
    const error = await refusal(`http://127.0.0.1:${port}/x.png`);
    expect(error.message).toMatch(/loopback/);
    expect(hits.length).toBe(before);
  });

  it.each([
    ['file:', 'file:///etc/passwd', /only http and https/],
    ['credentials', 'http://user:secret@public.test/x.png', /credentials/],
    ['a host outside allowed_hosts', 'http://public.test/x.png', /not in images\.allowed_hosts/],
  ])('refuses %s', async (_case, url, reason) => {
    expect((await refusal(url, { ...asPublic, allowedHosts: ['cdn.example.com', '*.images.example.com'] })).message).toMatch(reason);
  });
});

describe('safeFetch on a host it may reach', () => {
  it('fetches the image from the vetted address, keeping the host name in the URL', async () => {
    const fetched = await safeFetch(`http://public.test:${port}/cat.png`, { ...LIMITS, ...asPublic, allowedHosts: ['public.test'] });
    expect(fetched.data.equals(PNG)).toBe(true);
    expect(fetched.contentType).toBe('image/png');
  });

  it('vets each redirect target: a public URL redirecting to 127.0.0.1 is refused before the second request', async () => {
    const before = hits.length;
    const error = await refusal(`http://public.test:${port}/to-loopback`, asPublic);
    expect(error.message).toMatch(/127\.0\.0\.1.*loopback/);
    expect(hits.slice(before)).toEqual(['/to-loopback']);
  });

  it('refuses a redirect to the metadata address', async () => {
    expect((await refusal(`http://public.test:${port}/to-metadata`, asPublic)).message).toMatch(/169\.254\.169\.254.*metadata/);
  });

  it('follows at most three redirects', async () => {
    const before = hits.length;
    expect((await refusal(`http://public.test:${port}/loop`, asPublic)).message).toMatch(/more than 3 times/);
    expect(hits.length - before).toBe(4);
  });

  it('stops at max_bytes and at the time limit', async () => {
    expect((await refusal(`http://public.test:${port}/big`, asPublic)).message).toMatch(/over images\.max_bytes \(1024\)/);
    const started = performance.now();
    expect((await refusal(`http://public.test:${port}/slow`, { ...asPublic, timeoutMs: 300 })).message).toMatch(/longer than its limit/);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
