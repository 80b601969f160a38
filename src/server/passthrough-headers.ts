import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/**
 * The caller's request headers that reach the upstream; everything else is dropped. An allow-list,
 * because the dangerous headers are open-ended: `OpenAI-Organization` / `OpenAI-Project` would bill
 * another organisation or project under our key, `Cookie` and `Proxy-Authorization` carry someone's
 * credentials, `Forwarded` / `X-Forwarded-*` / `X-Real-IP` let a caller speak for the gateway, and
 * the next vendor header is unknown today.
 * - content-type / content-length: how to read the body (Sluice sets both itself for JSON bodies).
 * - content-encoding: only with a body forwarded unread (multipart); a JSON body is sent decoded.
 * - accept: JSON or `text/event-stream`, which the vendor answers by.
 * - openai-beta: opts into beta APIs (assistants=v2, realtime); a feature switch, not an identity.
 * - idempotency-key, x-client-request-id: let a caller retry safely and match the vendor's logs.
 * - user-agent: what the SDK is, for the vendor's compatibility decisions.
 * Not forwarded: accept-encoding (Sluice asks for `identity`, so it can read a priced answer's usage
 * as it streams by; the hop to the vendor is server to server), hop-by-hop headers (connection,
 * keep-alive, te, trailer, transfer-encoding, upgrade; Node frames the hop itself), authorization
 * and the other key headers (replaced by the upstream key).
 */
const FORWARDED_REQUEST_HEADERS = new Set(['content-type', 'content-length', 'accept', 'openai-beta', 'idempotency-key', 'x-client-request-id', 'user-agent']);

/**
 * Upstream response headers the caller never sees: cookies the vendor sets for its own domain, the
 * organisation and project our key belongs to, statements about the vendor's origin (Alt-Svc,
 * HSTS) that a browser would apply to the gateway's, and hop-by-hop headers (Node frames the
 * caller's hop itself: chunked for HTTP/1.1, close-delimited for 1.0).
 */
const DROPPED_RESPONSE_HEADERS = new Set([
  'set-cookie',
  'openai-organization',
  'openai-project',
  'alt-svc',
  'strict-transport-security',
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export interface UpstreamIdentity {
  apiKey?: string;
  /** From the passthrough backend's `options.organization`; never from the caller. */
  organization?: string;
  project?: string;
}

/**
 * The headers of the request sent upstream, from scratch: the allowed ones the caller sent, then
 * ours. `isBodyForwardedUnread`: the caller's content-encoding still describes the bytes.
 */
export function upstreamRequestHeaders(callerHeaders: IncomingHttpHeaders, identity: UpstreamIdentity, isBodyForwardedUnread: boolean): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(callerHeaders)) {
    if (value === undefined) continue;
    if (FORWARDED_REQUEST_HEADERS.has(name) || (isBodyForwardedUnread && name === 'content-encoding')) headers[name] = value;
  }
  headers['accept-encoding'] = 'identity';
  if (identity.apiKey) headers.authorization = `Bearer ${identity.apiKey}`;
  if (identity.organization) headers['openai-organization'] = identity.organization;
  if (identity.project) headers['openai-project'] = identity.project;
  return headers;
}

export function callerResponseHeaders(upstreamHeaders: IncomingHttpHeaders): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(upstreamHeaders)) {
    if (value !== undefined && !DROPPED_RESPONSE_HEADERS.has(name)) headers[name] = value;
  }
  return headers;
}
