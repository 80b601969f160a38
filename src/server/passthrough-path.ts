import { SluiceError } from '../../adapters/spec/index.js';
import { clipClientValue } from './error-text.js';

export interface PassthroughPath {
  /** Percent-decoded once, under `/v1/`: what every decision looks at and what is forwarded. */
  path: string;
  /** The query string as sent, `?` included, or empty; the vendor reads it, it does not route on it. */
  search: string;
}

/**
 * RFC 3986 `pchar` without percent-encoding: what stays of a segment once decoded. Vendor object
 * ids (`file-abc`, `ft:gpt-4o-mini:org::id`, `resp_…`) fit; a decoded space, quote or `%` would
 * have to be encoded again, and so decoded differently by the next server.
 */
const SEGMENT = /^[A-Za-z0-9._~:@!$&'()*+,;=-]+$/;

/**
 * The one reading of a passthrough request's path, done before any decision. A vendor resolves
 * `..`, decodes `%2e%2e` and sometimes takes `\` for `/`, so a path that looks like `/v1/…` here
 * can mean `/admin/keys` there. Rather than guess how the next server reads such a path, every
 * ambiguous form is refused: an encoded slash or backslash, any backslash, a dot segment raw or
 * encoded, an empty segment, a second layer of encoding, or a path that is not under `/v1/`.
 */
export function normalisePassthroughPath(originalUrl: string): PassthroughPath {
  const queryAt = originalUrl.indexOf('?');
  const rawPath = queryAt < 0 ? originalUrl : originalUrl.slice(0, queryAt);
  const search = queryAt < 0 ? '' : originalUrl.slice(queryAt);
  const refuse = (why: string) =>
    new SluiceError('invalid-request', `The request path '${clipClientValue(rawPath)}' is refused: ${why}.`, { code: 'invalid_path' });

  if (rawPath.includes('\\') || /%(?:2f|5c)/i.test(rawPath)) throw refuse('it holds a backslash or an encoded slash');
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    throw refuse('it is not valid percent-encoding');
  }
  // One decoding is the rule; a `%` left after it is a second layer another server might peel.
  if (path.includes('%')) throw refuse('it is percent-encoded twice');
  if (!path.startsWith('/v1/')) throw refuse('it is not under /v1/');
  for (const segment of path.slice('/v1/'.length).split('/')) {
    if (segment === '') throw refuse('it has an empty segment');
    if (segment === '.' || segment === '..') throw refuse('it has a dot segment');
    if (!SEGMENT.test(segment)) throw refuse('it has characters a path segment may not hold');
  }
  return { path, search };
}
