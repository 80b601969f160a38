import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { toProtocolErrorResponse, type ProtocolStatus } from './error-response.js';

/** How long the socket stays open after the answer, so the client reads it before the close. */
const LINGER_MS = 1000;

interface ClientErrorOptions {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

/**
 * The http server's `clientError` handler. Node answers a request it cannot parse (broken chunked
 * framing, oversized headers) or that did not arrive in time with a bare status line and no body;
 * clients that read `error.message` then report nothing useful. This writes the same status with
 * an OpenAI error body. No route has run, so there is nothing else to log or count.
 */
export function answerClientError(options: ClientErrorOptions) {
  return (error: Error & { code?: string; reason?: string }, socket: Duplex) => {
    // Once the in-flight response has begun (or the peer reset the connection) another status
    // line would corrupt the stream. Node's own default handler reads the same `_httpMessage`:
    // the response attached to the socket, none between keep-alive requests.
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const { status, message, code } = describe(error, options);
    const answer = toProtocolErrorResponse(status, message, code);
    const body = JSON.stringify(answer.body);
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
    // A client still sending (a body we will not read) would keep the half-closed socket forever.
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
}

function describe(error: Error & { code?: string; reason?: string }, options: ClientErrorOptions): { status: ProtocolStatus; message: string; code: string } {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, message: 'The request headers are larger than this server accepts.', code: 'request_header_fields_too_large' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, message: 'The chunk extensions of the request body are larger than this server accepts.', code: 'request_too_large' };
    case 'HPE_INVALID_EOF_STATE':
      return { status: 400, message: 'The connection was closed before the request body it declared had arrived.', code: 'invalid_body_length' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        message:
          `The request did not arrive in time (headers within ${options.headersTimeoutMs} ms, all of it within ${options.requestTimeoutMs} ms): ` +
          'it is shorter than it declared, or was sent too slowly.',
        code: 'request_timeout',
      };
    default:
      // llhttp's reason ("Invalid character in chunk size") names the fault; it quotes no client bytes.
      return { status: 400, message: `The HTTP request is malformed: ${error.reason ?? error.code ?? error.message}.`, code: 'malformed_request' };
  }
}
