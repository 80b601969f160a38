import http from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { keepAliveAgents } from '../shared/node-http-fetch.js';
import { kindForHttpStatus, retryAfterSeconds } from '../shared/http-failure.js';
import type { CallOptions } from '../spec/index.js';
import { SluiceError } from '../spec/index.js';

/** An error body is read for its message up to this size; the rest is dropped. */
const ERROR_BODY_LIMIT = 64 * 1024;

export interface OpenAIWireSettings {
  backendId: string;
  baseUrl: string;
  /** Every header the vendor gets besides the request's own: authorization, organisation, project. */
  headers: Record<string, string>;
}

/**
 * The chat calls of an OpenAI-protocol backend straight over node:http: one JSON body out, one
 * JSON body or an SSE stream of JSON chunks back. Nothing needs translating on this path, and the
 * SDK's per-call machinery (web `Headers`/`Response`, web streams, request logging) was the
 * gateway's largest single cost per proxied request (issue 13's profile: 17%). Failures keep the
 * SDK's meaning — the vendor's status, message, param, code and `retry-after` — so the chain
 * and the client see the same errors either way.
 */
export function openAIWire(settings: OpenAIWireSettings) {
  const base = new URL(settings.baseUrl.endsWith('/') ? settings.baseUrl : `${settings.baseUrl}/`);
  const transport = base.protocol === 'https:' ? https : http;
  const agent = keepAliveAgents[base.protocol === 'https:' ? 'https:' : 'http:'];
  const id = settings.backendId;

  /**
   * POSTs `body` and resolves with the response once its status is a success; fails as the SDK
   * would. The timeout covers the wait for the answer's head, and its body too when `wholeBody`
   * (a JSON answer); a stream's pace after its head is the pipeline's to police.
   */
  function post(path: string, body: unknown, call: CallOptions, accept: string, wholeBody: boolean): Promise<Answer> {
    let payload: Buffer;
    try {
      payload = Buffer.from(JSON.stringify(body));
    } catch (error) {
      // A stack overflow here is the request's own nesting, never the vendor's fault.
      if (error instanceof RangeError) throw new SluiceError('invalid-request', `${id} could not encode the request: it is nested too deeply`, { cause: error });
      throw error;
    }
    if (call.signal.aborted) return Promise.reject(new SluiceError('client-closed', 'request aborted by the client'));
    const url = new URL(path, base);
    return new Promise((resolve, reject) => {
      const request = transport.request(url, {
        method: 'POST',
        agent,
        headers: {
          ...settings.headers,
          accept,
          'content-type': 'application/json',
          'content-length': payload.length,
          'x-request-id': call.requestId,
        },
      });
      let settled = false;
      const answer = { timedOut: false } as Answer;
      const fail = (error: SluiceError) => {
        if (settled) {
          // After the head: stop the body; its reader reports why.
          answer.timedOut ||= error.kind === 'timeout';
          request.destroy();
          return;
        }
        settled = true;
        cleanup();
        request.destroy();
        reject(error);
      };
      const timer = setTimeout(() => fail(new SluiceError('timeout', `${id} timed out`)), call.timeoutMs);
      const onAbort = () => fail(new SluiceError('client-closed', 'request aborted by the client'));
      const cleanup = () => {
        clearTimeout(timer);
        call.signal.removeEventListener('abort', onAbort);
      };
      call.signal.addEventListener('abort', onAbort, { once: true });
      request.on('error', (error) => fail(new SluiceError('upstream-unavailable', `${id} unreachable: ${error.message}`, { cause: error })));
      request.on('response', (response) => {
        const status = response.statusCode ?? 502;
        if (status < 300) {
          settled = true;
          if (!wholeBody) clearTimeout(timer);
          response.once('close', cleanup);
          answer.response = response;
          resolve(answer);
          return;
        }
        readText(response, ERROR_BODY_LIMIT).then(
          (text) => fail(httpError(id, status, text, response.headers['retry-after'])),
          () => fail(httpError(id, status, '', response.headers['retry-after'])),
        );
      });
      request.end(payload);
    });
  }

  return {
    /** One JSON answer. */
    async json(path: string, body: unknown, call: CallOptions): Promise<unknown> {
      const answer = await post(path, body, call, 'application/json', true);
      const text = await readText(answer.response, Infinity).catch((error: Error) => {
        throw answer.timedOut ? new SluiceError('timeout', `${id} timed out`) : bodyError(id, call, error);
      });
      try {
        return JSON.parse(text);
      } catch {
        throw new SluiceError('upstream-unavailable', `${id}: the answer is not JSON`);
      }
    },

    /** The `data:` payloads of an SSE answer, parsed, until `[DONE]` or the end of the body. */
    async *events(path: string, body: unknown, call: CallOptions): AsyncIterable<unknown> {
      const { response } = await post(path, body, call, 'text/event-stream', false);
      const decoder = new StringDecoder('utf8');
      let pending = '';
      let data: string[] = [];
      let event: string | undefined;
      try {
        for await (const bytes of response as AsyncIterable<Buffer>) {
          pending += decoder.write(bytes);
          let newline: number;
          while ((newline = pending.indexOf('\n')) >= 0) {
            const line = pending.charCodeAt(newline - 1) === 13 ? pending.slice(0, newline - 1) : pending.slice(0, newline);
            pending = pending.slice(newline + 1);
            if (line.length > 0) {
              if (line.startsWith('data:')) data.push(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5));
              else if (line.startsWith('event:')) event = line.slice(6).trim();
              continue; // comments (`:` keep-alives), id: and retry: lines carry nothing for us
            }
            if (data.length === 0) continue;
            const payload = data.join('\n');
            data = [];
            const kind = event;
            event = undefined;
            if (payload === '[DONE]') return;
            yield parseEvent(id, payload, kind);
          }
        }
      } catch (error) {
        throw error instanceof SluiceError ? error : bodyError(id, call, error as Error);
      } finally {
        response.destroy();
      }
    },
  };
}

interface Answer {
  response: http.IncomingMessage;
  /** Set when the timeout stopped the body. */
  timedOut: boolean;
}

/** An event's JSON; an `error` event, or a payload that is an error object, ends the stream as the vendor's failure. */
function parseEvent(id: string, payload: string, kind: string | undefined): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    throw new SluiceError('upstream-unavailable', `${id}: a stream event is not JSON`);
  }
  const error = (parsed as { error?: { message?: unknown } } | null)?.error;
  if (kind === 'error' || error) {
    const message = typeof error?.message === 'string' ? error.message : 'stream error';
    throw new SluiceError('upstream-unavailable', `${id}: ${message}`);
  }
  return parsed;
}

function bodyError(id: string, call: CallOptions, error: Error): SluiceError {
  if (call.signal.aborted) return new SluiceError('client-closed', 'request aborted by the client');
  return new SluiceError('upstream-unavailable', `${id}: the answer broke off: ${error.message}`, { cause: error });
}

/** The vendor's error as the SDK would have reported it: its message, param and code when the body is the usual `{error: {...}}`. */
function httpError(id: string, status: number, text: string, retryAfter: string | string[] | undefined): SluiceError {
  let detail: { message?: unknown; param?: unknown; code?: unknown } | undefined;
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    detail = parsed && typeof parsed.error === 'object' && parsed.error !== null ? (parsed.error as typeof detail) : undefined;
  } catch {
    detail = undefined;
  }
  const message = typeof detail?.message === 'string' ? detail.message : text ? `${status} ${text}` : `${status} status code (no body)`;
  return new SluiceError(kindForHttpStatus(status), `${id}: ${message}`, {
    upstreamStatus: status,
    param: typeof detail?.param === 'string' ? detail.param : undefined,
    code: typeof detail?.code === 'string' ? detail.code : undefined,
    retryAfterSeconds: retryAfterSeconds(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter),
  });
}

/** The body as text, at most `limit` bytes of it. */
function readText(response: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    response.on('data', (part: Buffer) => {
      if (size >= limit) return;
      parts.push(part);
      size += part.length;
    });
    response.once('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    response.once('error', reject);
    response.once('close', () => {
      if (!response.complete) reject(new Error('the connection closed before the body ended'));
    });
  });
}
