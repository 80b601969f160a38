/**
 * SECURITY.md, passthrough: whatever the caller writes in Host, X-Forwarded-*, Forwarded or the
 * request target, a passthrough call goes to the configured upstream, under its /v1, or nowhere.
 * A second loopback server stands for the host an attacker would aim at; it must see nothing.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';
import { rawExchange } from '../support/raw-http.js';

const MASTER = 'sk-master-security-passthrough';

let sluice: TestGateway;
let port: number;
let elsewhere: Server;
let elsewhereHost: string;
const elsewhereHits: string[] = [];

beforeAll(async () => {
  elsewhere = createServer((request, response) => {
    elsewhereHits.push(`${request.method} ${request.url}`);
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"pwned":true}');
  });
  await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
  elsewhereHost = `127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
  sluice = await startTestGateway((raw) => {
    raw.auth = { master_key: MASTER };
  });
  port = Number(new URL(sluice.origin).port);
});
afterAll(async () => {
  await sluice?.close();
  elsewhere.closeAllConnections();
  await new Promise((resolve) => elsewhere.close(resolve));
});

const upstreamHost = () => new URL(sluice.openai.url).host;
const head = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;
const body = '{"model":"omni-moderation-latest","input":"hello"}';
const post = (target: string, headers: string[]) =>
  head([`POST ${target} HTTP/1.1`, `Authorization: Bearer ${MASTER}`, 'Content-Type: application/json', `Content-Length: ${body.length}`, ...headers]) + body;

describe('the caller cannot choose the upstream host', () => {
  const hostileHeaders = () => [
    ['Host', [`Host: ${elsewhereHost}`]],
    ['X-Forwarded-Host', ['Host: 127.0.0.1', `X-Forwarded-Host: ${elsewhereHost}`, 'X-Forwarded-Proto: http', `X-Forwarded-For: ${elsewhereHost}`]],
    ['Forwarded', ['Host: 127.0.0.1', `Forwarded: host=${elsewhereHost};proto=http`]],
    ['X-Original-URL / X-Rewrite-URL', ['Host: 127.0.0.1', `X-Original-URL: http://${elsewhereHost}/v1/moderations`, `X-Rewrite-URL: //${elsewhereHost}/v1/moderations`]],
  ] as const;

  it.each(hostileHeaders().map(([name]) => name))('%s: the call goes to the configured upstream with its own Host, and the header is not forwarded', async (name) => {
    const [, headers] = hostileHeaders().find(([candidate]) => candidate === name)!;
    const before = sluice.openai.requests.length;
    const answer = await rawExchange(port, post('/v1/moderations', [...headers]));
    expect(answer.status).toBe(200);
    const forwarded = sluice.openai.requests.slice(before);
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]).toMatchObject({ method: 'POST', path: '/v1/moderations' });
    const sent: IncomingHttpHeaders = forwarded[0].headers;
    expect(sent.host).toBe(upstreamHost());
    for (const header of ['x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-for', 'forwarded', 'x-original-url', 'x-rewrite-url']) expect(sent).not.toHaveProperty(header);
    expect(elsewhereHits).toEqual([]);
  });
});

describe('the request target cannot name another host or leave /v1', () => {
  it.each([
    [`http://${elsewhereHostLater()}/v1/moderations`, 'absolute form'],
    [`//${elsewhereHostLater()}/v1/moderations`, 'network-path form'],
    ['/v1/../admin/keys', 'dot segments'],
    ['/v1/%2e%2e/%2e%2e/admin/keys', 'encoded dot segments'],
    ['/v1/files/..%2f..%2fadmin', 'encoded slash'],
    ['/v1/files/%252e%252e/x', 'double encoding'],
    ['/v1/..%5cadmin', 'encoded backslash'],
    [`/v1/@${elsewhereHostLater()}/x`, 'userinfo-looking segment'],
    ['/v1', 'the bare prefix'],
  ])('%s (%s) reaches neither the upstream outside /v1 nor another host', async (target) => {
    const resolved = target.replaceAll('ELSEWHERE', elsewhereHost);
    const before = sluice.openai.requests.length;
    const answer = await rawExchange(port, post(resolved, ['Host: 127.0.0.1']));
    const forwarded = sluice.openai.requests.slice(before);
    // Refused, or — for a target whose path is /v1/… — sent to the configured upstream only.
    for (const request of forwarded) expect(request.path.startsWith('/v1/')).toBe(true);
    for (const request of forwarded) expect(request.headers.host).toBe(upstreamHost());
    if (forwarded.length === 0) expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(elsewhereHits).toEqual([]);
  });

  it('an absolute-form target is refused outright, naming the path rule', async () => {
    const before = sluice.openai.requests.length;
    const answer = await rawExchange(port, post(`http://${elsewhereHost}/v1/moderations`, [`Host: ${elsewhereHost}`]));
    expect(answer.status).toBe(400);
    expect((JSON.parse(answer.body) as { error: { code: string } }).error.code).toBe('invalid_path');
    expect(sluice.openai.requests.length).toBe(before);
    expect(elsewhereHits).toEqual([]);
  });
});

/** it.each tables are built before beforeAll runs: the host is filled in per case. */
function elsewhereHostLater(): string {
  return 'ELSEWHERE';
}
