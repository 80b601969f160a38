import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../adapters/spec/index.js';
import { normalisePassthroughPath } from '../../../src/server/passthrough-path.js';

const refusal = (url: string) => {
  try {
    normalisePassthroughPath(url);
    return undefined;
  } catch (error) {
    return error instanceof SluiceError ? error.kind : 'not a SluiceError';
  }
};

describe('the passthrough path', () => {
  it.each([
    ['/v1/files', '/v1/files', ''],
    ['/v1/files/file-abc/content?limit=2&after=x%2Fy', '/v1/files/file-abc/content', '?limit=2&after=x%2Fy'],
    ['/v1/models/ft%3Agpt-4o-mini%3Aacme%3A%3Aabc', '/v1/models/ft:gpt-4o-mini:acme::abc', ''],
  ])('%s reads as %s', (url, path, search) => {
    expect(normalisePassthroughPath(url)).toEqual({ path, search });
  });

  it.each(['/v1/../admin/keys', '/v1/%2e%2e/admin/keys', '/v1/.%2E/admin', '/v1/..%5cadmin', '/v1/..\\admin', '/v1/files/%2f..', '/v1/%252e%252e/x', '/v1/./files', '/v1//files', '/v1/files/', '/v1/', '/v2/files', '/V1/files', '/v1/%zz', '/v1/a%20b', '/v1/%00'])(
    '%s is refused as an invalid request',
    (url) => {
      expect(refusal(url)).toBe('invalid-request');
    },
  );

  it('whatever is accepted stays under /v1 after any later decoding and dot-segment removal', () => {
    const piece = fc.oneof(fc.constantFrom('.', '..', '%2e', '%2E', '%2f', '%5c', '\\', '/', '%25', '%', 'a', 'files', ':', '%3a'), fc.string({ maxLength: 3 }));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const url = `/v1/${pieces.join('')}`;
        if (refusal(url) !== undefined) return;
        const { path } = normalisePassthroughPath(url);
        // What a vendor's server might do to it: decode again, turn backslashes into slashes, resolve dots.
        let reread = path;
        try {
          reread = decodeURIComponent(path);
        } catch {
          // not decodable again: read as is
        }
        expect(new URL(reread.replaceAll('\\', '/'), 'http://vendor').pathname.startsWith('/v1/')).toBe(true);
        expect(reread).toBe(path);
      }),
    );
  });
});
