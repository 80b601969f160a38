import { connect } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** From the first byte written to the end of the answer. */
  elapsedMs: number;
}

export interface RawOptions {
  /** Half-close the connection after writing, as a client that sent all it meant to. */
  isEndingAfterWrite?: boolean;
}

/**
 * Writes bytes exactly as given on a fresh TCP connection and reads one HTTP answer: the way to
 * send what no HTTP client would (broken framing, undecodable paths, bodies shorter than declared).
 * Resolves once the answer is complete, whether or not the server then closes the connection.
 */
export function rawExchange(port: number, request: string | Buffer, options: RawOptions = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let received = Buffer.alloc(0);
    let isDone = false;
    const finish = (isClosed: boolean) => {
      if (isDone) return;
      const answer = parseAnswer(received, isClosed);
      if (!answer) {
        if (isClosed) {
          isDone = true;
          reject(new Error(`connection closed without a complete answer: ${JSON.stringify(received.toString('latin1').slice(0, 300))}`));
        }
        return;
      }
      isDone = true;
      socket.destroy();
      resolve({ ...answer, elapsedMs: performance.now() - startedAt });
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    // A reset after the answer arrived is the server hanging up on bytes it will not read.
    socket.on('error', () => finish(true));
    socket.write(request, () => {
      if (options.isEndingAfterWrite) socket.end();
    });
  });
}

function parseAnswer(bytes: Buffer, isClosed: boolean): Omit<RawAnswer, 'elapsedMs'> | undefined {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const [statusLine, ...lines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  if (!Number.isInteger(status)) throw new Error(`not an HTTP status line: ${statusLine}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = bytes.subarray(headEnd + 4);
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    return rest.length >= length ? { status, headers, body: rest.subarray(0, length).toString('utf8') } : undefined;
  }
  if (headers['transfer-encoding']?.includes('chunked')) {
    const body = dechunk(rest);
    return body === undefined ? undefined : { status, headers, body };
  }
  return isClosed ? { status, headers, body: rest.toString('utf8') } : undefined;
}

function dechunk(bytes: Buffer): string | undefined {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', offset);
    if (lineEnd < 0) return undefined;
    const size = parseInt(bytes.subarray(offset, lineEnd).toString('latin1'), 16);
    if (size === 0) return Buffer.concat(parts).toString('utf8');
    if (bytes.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}

/**
 * Keep-alive by hand: each request is written once the answer to the one before has begun to
 * arrive, all on one connection; resolves with everything the server sent until it closed.
 */
export function rawConversation(port: number, requests: readonly string[]): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    let next = 1;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (next < requests.length) socket.write(requests[next++]);
    });
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', () => {}); // a reset after the answers still leaves what was read
    socket.write(requests[0]);
  });
}
