// HTTP framing shared by every endpoint of the fake: OpenAI's headers, error bodies, SSE and multipart.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import busboy from 'busboy';

export interface OpenAIErrorBody {
  message: string;
  type: string;
  param: string | null;
  // OpenAI's own 502 body carries a number here (`"code": 502`), everything else a string or null.
  code: string | number | null;
}

/** Thrown by handlers; the server turns it into `{"error": …}` with this status and headers. */
export class FakeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: OpenAIErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
  }
}

export function invalidRequest(message: string, param: string | null = null, code: string | null = null): FakeHttpError {
  return new FakeHttpError(400, { message, type: 'invalid_request_error', param, code });
}

export function missingParameter(param: string): FakeHttpError {
  return invalidRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
}

/** One request/response pair, with what every answer needs to carry. */
export interface Exchange {
  request: IncomingMessage;
  response: ServerResponse;
  requestId: string;
  startedAtMs: number;
  /** Aborted when the connection closes before the answer is complete. */
  signal: AbortSignal;
  /** Set when a scenario drops the connection on purpose, so the log does not call it a client abort. */
  isCutByServer: boolean;
}

export function newId(prefix: string, bytes = 12): string {
  return `${prefix}${randomBytes(bytes).toString('hex')}`;
}

export function openAIHeaders(exchange: Exchange): Record<string, string> {
  return {
    'x-request-id': exchange.requestId,
    'openai-processing-ms': String(Date.now() - exchange.startedAtMs),
    'openai-version': '2020-10-01',
    'x-ratelimit-limit-requests': '10000',
    'x-ratelimit-remaining-requests': '9999',
    'x-ratelimit-reset-requests': '6ms',
    'x-ratelimit-limit-tokens': '30000000',
    'x-ratelimit-remaining-tokens': '29999000',
    'x-ratelimit-reset-tokens': '2ms',
  };
}

export function sendJson(exchange: Exchange, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  exchange.response.writeHead(status, {
    ...openAIHeaders(exchange),
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...extraHeaders,
  });
  exchange.response.end(text);
}

export function sendText(exchange: Exchange, text: string): void {
  exchange.response.writeHead(200, {
    ...openAIHeaders(exchange),
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
  });
  exchange.response.end(text);
}

export function sendError(exchange: Exchange, error: FakeHttpError): void {
  sendJson(exchange, error.status, { error: error.body }, error.headers);
}

/** Writes `lastWords`, then drops the connection without finishing the HTTP message. */
export function cutConnectionAfter(exchange: Exchange, lastWords: string): void {
  // The callback runs once the bytes are with the kernel, so the client reads them before the FIN.
  exchange.isCutByServer = true;
  exchange.response.write(lastWords, () => exchange.response.socket?.destroy());
}

export interface EventStream {
  /** `data: {json}\n\n` */
  data(payload: unknown): void;
  /** `event: name\ndata: {json}\n\n`, the Responses API framing. */
  event(name: string, payload: unknown): void;
  /** `data: [DONE]\n\n` and the end of the response. */
  done(): void;
  end(): void;
}

export function openEventStream(exchange: Exchange): EventStream {
  const { response } = exchange;
  response.writeHead(200, {
    ...openAIHeaders(exchange),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  response.flushHeaders();
  return {
    data: (payload) => response.write(`data: ${JSON.stringify(payload)}\n\n`),
    event: (name, payload) => response.write(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`),
    done: () => response.end('data: [DONE]\n\n'),
    end: () => response.end(),
  };
}

export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

export interface UploadedFile {
  field: string;
  filename: string;
  contentType: string;
  bytes: Buffer;
}

export interface MultipartForm {
  /** Repeated fields, and the SDK's `name[]` array fields, become arrays under the bare name. */
  fields: Record<string, string | string[]>;
  files: UploadedFile[];
}

export function isMultipart(headers: IncomingHttpHeaders): boolean {
  return (headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data');
}

export function parseMultipart(headers: IncomingHttpHeaders, raw: Buffer): Promise<MultipartForm> {
  const form: MultipartForm = { fields: {}, files: [] };
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => reject(invalidRequest(`Could not parse multipart form: ${error.message}`));
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers });
    } catch (error) {
      fail(error as Error);
      return;
    }
    parser.on('field', (name, value) => addField(form.fields, name, value));
    parser.on('file', (field, stream, info) => {
      const parts: Buffer[] = [];
      stream.on('data', (part: Buffer) => parts.push(part));
      stream.on('end', () =>
        form.files.push({ field, filename: info.filename ?? '', contentType: info.mimeType, bytes: Buffer.concat(parts) }),
      );
    });
    parser.on('error', (error) => fail(error as Error));
    parser.on('close', () => resolve(form));
    parser.end(raw);
  });
}

function addField(fields: MultipartForm['fields'], name: string, value: string): void {
  const isArrayField = name.endsWith('[]');
  const key = isArrayField ? name.slice(0, -2) : name;
  const existing = fields[key];
  if (existing === undefined) fields[key] = isArrayField ? [value] : value;
  else fields[key] = [...(Array.isArray(existing) ? existing : [existing]), value];
}

/** What the request log keeps of a form: the fields, and each file's name, type and size. */
export function describeForm(form: MultipartForm): Record<string, unknown> {
  const described: Record<string, unknown> = { ...form.fields };
  for (const file of form.files) {
    described[file.field] = { filename: file.filename, contentType: file.contentType, size: file.bytes.length };
  }
  return described;
}

export function wordCount(text: string): number {
  return text.match(/\S+/g)?.length ?? 0;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
