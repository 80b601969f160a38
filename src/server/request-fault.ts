import type { Request } from 'express';
import { SluiceError } from '../../adapters/spec/index.js';
import { clipClientValue } from './error-text.js';

/** What body-parser, raw-body and the router attach to the errors they throw (http-errors). */
interface HttpErrorLike {
  type?: string;
  message?: string;
  limit?: number;
  status?: number;
  statusCode?: number;
}

/**
 * The failures express and body-parser raise about the request itself — a body that is not JSON,
 * not the declared encoding or shorter than declared, a path that is not valid percent-encoding —
 * as the error kinds a client understands. Undefined for anything else: that one is ours, a 500.
 */
export function fromRequestFault(error: unknown, request: Request): SluiceError | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const fault = error as HttpErrorLike;
  switch (fault.type) {
    case 'entity.parse.failed':
      return new SluiceError('invalid-request', `We could not parse the JSON body of your request: ${clipClientValue(fault.message ?? '', 200)}`, { code: 'invalid_json' });
    case 'entity.too.large':
      return new SluiceError('payload-too-large', `the request body exceeds the ${fault.limit}-byte limit`);
    case 'entity.verify.failed':
      return new SluiceError('invalid-request', 'the request body is not valid UTF-8', { code: 'invalid_encoding' });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new SluiceError('invalid-request', fault.message ?? 'unsupported encoding', { code: 'invalid_encoding' });
    case 'request.size.invalid':
      return new SluiceError('invalid-request', 'the request body is shorter or longer than its Content-Length', { code: 'invalid_body_length' });
    case 'request.aborted':
      return new SluiceError('client-closed', 'the client closed the connection');
  }
  const status = fault.status ?? fault.statusCode;
  if (status === undefined || status < 400 || status >= 500) return undefined;
  // The router decodes `:params` with decodeURIComponent and marks a failure 400.
  if (error instanceof URIError) {
    const path = clipClientValue(request.originalUrl.split('?')[0]);
    return new SluiceError('invalid-request', `The request path '${path}' is not valid percent-encoding.`, { code: 'invalid_path' });
  }
  // body-parser marks a body its decompressor choked on 400, with zlib's message and no type.
  const encoding = request.headers['content-encoding'];
  if (encoding && encoding.toLowerCase() !== 'identity') {
    const name = clipClientValue(encoding);
    return new SluiceError('invalid-request', `The request body is not valid '${name}' data, as its Content-Encoding says: ${fault.message ?? 'decoding failed'}.`, {
      code: 'invalid_encoding',
    });
  }
  return new SluiceError('invalid-request', clipClientValue(fault.message ?? 'the request is malformed', 200));
}
