import type { IncomingMessage, ServerResponse } from 'node:http';
import { SluiceError } from '../../adapters/spec/index.js';
import { toErrorResponse } from './error-response.js';

/** How long the socket stays open after a 413, so the client reads it before the close (as client-error.ts). */
const LINGER_MS = 1000;

/**
 * The answer to a body over its limit, without reading the rest of it: body-parser and a drained
 * busboy would read a 2 GB upload to its end before answering. The 413 goes out with
 * `connection: close`, and the socket is destroyed shortly after, whatever the client still sends.
 */
export function refuseOversizedBody(request: IncomingMessage, response: ServerResponse, maxBytes: number, param?: string): void {
  if (response.headersSent) return; // refused already, or answered before the body was read
  const answer = toErrorResponse(tooLarge(maxBytes, param));
  const body = JSON.stringify(answer.body);
  response.shouldKeepAlive = false;
  response.writeHead(answer.status, { ...answer.headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  response.end(body);
  const socket = request.socket;
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

export function tooLarge(maxBytes: number, param?: string): SluiceError {
  return new SluiceError('payload-too-large', `the request body exceeds the ${maxBytes}-byte limit`, { param });
}

/** A Content-Length above the limit: refused before a byte of the body is read. */
export function isDeclaredTooLarge(request: IncomingMessage, maxBytes: number): boolean {
  const declared = request.headers['content-length'];
  return declared !== undefined && Number(declared) > maxBytes;
}

/**
 * For a body of unknown length (chunked): counts the bytes as whoever reads the body reads them,
 * and refuses once the count passes the limit. Listening to `data` alongside the reader sees the
 * same chunks; it must be attached after the reader's own listener, so no chunk flows unread.
 */
export function watchBodySize(
  request: IncomingMessage,
  response: ServerResponse,
  maxBytes: number,
  onExceeded: () => void = () => refuseOversizedBody(request, response, maxBytes),
): void {
  if (request.headers['transfer-encoding'] === undefined) return; // Node's parser holds a Content-Length body to its length
  if (request.listenerCount('data') === 0) return; // nobody reads this body: counting it would read it
  let receivedBytes = 0;
  const count = (chunk: Buffer) => {
    receivedBytes += chunk.length;
    if (receivedBytes <= maxBytes) return;
    request.off('data', count);
    onExceeded();
  };
  request.on('data', count);
}
