import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { pipeline, Transform } from 'node:stream';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { SluiceError } from '../../adapters/spec/index.js';
import { errorSecrets } from '../auth/secret-scrubber.js';
import type { ModelConfig } from '../config/schema.js';
import type { BudgetStep } from '../pipeline/budget-step.js';
import { openCharge, type OpenCharge, type PassthroughCharge } from '../pipeline/passthrough-charge.js';
import { planPassthroughCost } from '../pipeline/passthrough-cost.js';
import { usageTapFor } from '../pipeline/passthrough-usage-tap.js';
import { toErrorResponse } from './error-response.js';
import { jsonBody, type JsonBodyLimits } from './json-body.js';
import { callerResponseHeaders, upstreamRequestHeaders } from './passthrough-headers.js';
import { normalisePassthroughPath, type PassthroughPath } from './passthrough-path.js';
import { checkPassthroughCall, checkPassthroughPath } from './passthrough-policy.js';
import { stateOf } from './request-context.js';

export interface PassthroughTarget {
  backendId: string;
  baseUrl: string;
  apiKey?: string;
  timeoutMs: number;
  /** OpenAI-Organization / OpenAI-Project sent upstream, from the backend's options; a caller's own are dropped. */
  organization?: string;
  project?: string;
  /** The configured models: their prices settle priced calls, as for chat. */
  models: readonly ModelConfig[];
  budget: BudgetStep;
  /** The JSON body limits of the model endpoints, which a passthrough body is held to as well. */
  limits: JsonBodyLimits;
  /** Called once per forwarded call, when it is over, with what it was charged. */
  onCharge?: (charge: PassthroughCharge) => void;
}

/** What the proxy's event handlers need of one request, kept on `response.locals`. */
interface PassthroughExchange {
  /** The normalised path, the query as sent. */
  path: string;
  search: string;
  /** The JSON body as parsed and checked: what is forwarded, so the vendor reads what Sluice checked. */
  body?: Buffer;
  hasUnreadBody: boolean;
  charge: OpenCharge;
  hasUpstreamResponse: boolean;
  /** The request to the vendor, once made: destroyed when the client leaves, so the vendor stops too. */
  upstreamRequest?: ClientRequest;
}

/** Connection failures after which the vendor has certainly not seen the call. */
const UNSENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Every /v1 path Sluice does not implement goes to the upstream, under the same rules as the
 * paths it serves (SECURITY.md): the path read once and checked, the key's passthrough grant and
 * allowed models enforced, the budget held and settled where the cost is known, and only an
 * allow-list of headers forwarded, with the caller's key swapped for the upstream's. Multipart
 * bodies and answers, streams included, are piped, never buffered.
 */
export function passthroughProxy(target: PassthroughTarget | undefined): RequestHandler {
  const router = express.Router();
  router.use((request: Request, response: Response, next: NextFunction) => {
    const { path } = (response.locals.passthroughPath = normalisePassthroughPath(request.originalUrl));
    if (!target) throw new SluiceError('not-found', 'this path is not served by Sluice and no passthrough upstream is configured (set OPENAI_API_KEY)');
    checkPassthroughPath(stateOf(response).tenant!, request.method, path);
    if (hasBody(request) && !isJson(request) && !isMultipart(request)) {
      throw new SluiceError('invalid-request', 'A passthrough request body must be application/json or multipart/form-data.', { code: 'unsupported_content_type' });
    }
    next();
  });
  if (!target) return router;
  router.use(jsonBody(target.limits));
  router.use(async (request: Request, response: Response, next: NextFunction) => {
    const { path, search } = response.locals.passthroughPath as PassthroughPath;
    const isParsed = isJson(request) && hasBody(request);
    if (isParsed && !isRecord(request.body)) throw new SluiceError('invalid-request', 'A passthrough JSON body must be an object.', { code: 'invalid_json' });
    const parsed = isParsed ? (request.body as Record<string, unknown>) : undefined;
    const body = parsed ? Buffer.from(JSON.stringify(parsed), 'utf8') : undefined;
    const state = stateOf(response);
    const tenant = state.tenant!;
    const hasUnreadBody = hasBody(request) && !isParsed;
    const plan = planPassthroughCost({
      method: request.method,
      path,
      body: parsed,
      bodyBytes: body?.length ?? 0,
      models: target.models,
      backendId: target.backendId,
      defaultOutputTokens: target.budget.defaultOutputTokens,
    });
    checkPassthroughCall(tenant, { method: request.method, path, body: parsed, hasUnreadBody }, plan);
    const charge = await openCharge(target.budget, plan, { tenant, requestId: state.requestId, method: request.method, path, onCharge: target.onCharge });
    const exchange: PassthroughExchange = { path, search, body, hasUnreadBody, charge, hasUpstreamResponse: false };
    response.locals.passthrough = exchange;
    response.once('close', () => {
      if (response.writableFinished) return;
      exchange.upstreamRequest?.destroy();
      // Gone before the vendor answered: whatever the vendor did is charged as the hold.
      if (!exchange.hasUpstreamResponse) void charge.finish({ error: 'client-closed' });
    });
    // The forwarded path is the normalised one, relative to the upstream's base URL (…/v1).
    request.url = `${path.slice('/v1'.length)}${search}`;
    next();
  });
  router.use(proxyTo(target));
  return router;
}

function proxyTo(target: PassthroughTarget): RequestHandler {
  return createProxyMiddleware<IncomingMessage, ServerResponse>({
    target: target.baseUrl,
    changeOrigin: true,
    proxyTimeout: target.timeoutMs,
    xfwd: false,
    // Sluice writes the answer itself: filtered headers, and the bytes through the usage tap.
    selfHandleResponse: true,
    on: {
      proxyReq: (proxyRequest: ClientRequest, request, response) => {
        const exchange = exchangeOf(response);
        for (const name of proxyRequest.getHeaderNames()) if (name !== 'host') proxyRequest.removeHeader(name);
        const headers = upstreamRequestHeaders(request.headers, target, exchange.hasUnreadBody);
        for (const [name, value] of Object.entries(headers)) if (value !== undefined) proxyRequest.setHeader(name, value);
        exchange.upstreamRequest = proxyRequest;
        if (exchange.body) {
          // The caller's body was read to check it; the stream then ends the request after this.
          proxyRequest.setHeader('content-type', 'application/json');
          proxyRequest.setHeader('content-length', exchange.body.length);
          proxyRequest.write(exchange.body);
        }
      },
      proxyRes: (upstream, _request, response) => relayAnswer(target, upstream, response),
      error: (error, _request, response) => {
        const code = (error as NodeJS.ErrnoException).code ?? '';
        const exchange = 'locals' in response ? (response as unknown as Response).locals.passthrough as PassthroughExchange | undefined : undefined;
        void exchange?.charge.finish({ error: UNSENT_CODES.has(code) ? 'upstream-unavailable' : 'upstream-cut' });
        if (!('headersSent' in response) || response.headersSent || response.destroyed) {
          response.destroy();
          return;
        }
        writeError(response, new SluiceError('upstream-unavailable', `${target.backendId} unreachable: ${error.message}`));
      },
    },
  }) as unknown as RequestHandler;
}

/** The vendor's answer to the caller, with its usage read on the way for the charge. */
function relayAnswer(target: PassthroughTarget, upstream: IncomingMessage, response: ServerResponse): void {
  const exchange = exchangeOf(response);
  exchange.hasUpstreamResponse = true;
  const status = upstream.statusCode ?? 502;
  if (status === 401) {
    // The vendor refused *our* key; its body names part of that key and our organisation.
    upstream.resume();
    void exchange.charge.finish({ upstreamStatus: status });
    writeError(response, new SluiceError('upstream-rejected', `${target.backendId} refused the gateway's upstream key (401); the operator must check its API key`));
    return;
  }
  if (status >= 400) {
    relayErrorBody(target, upstream, response, exchange, status);
    return;
  }
  response.writeHead(status, { ...callerResponseHeaders(upstream.headers), 'x-sluice-route': target.backendId, 'x-sluice-cache': 'miss' });
  const tap = exchange.charge.isPriced && status < 400 ? usageTapFor(upstream.headers['content-type'], target.limits.maxBytes) : undefined;
  const observe = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      tap?.write(chunk);
      done(null, chunk);
    },
    // The vendor's answer is complete here: that is what it bills, whether or not the caller reads it all.
    flush(done) {
      void exchange.charge.finish({ upstreamStatus: status, usage: tap?.usage() });
      done();
    },
  });
  pipeline(upstream, observe, response, (error) => {
    if (!error) return;
    const wasClientGone = stateOf(response as unknown as Response).abort.signal.aborted;
    void exchange.charge.finish({ upstreamStatus: status, usage: tap?.usage(), error: wasClientGone ? 'client-closed' : 'upstream-cut' });
  });
}

/**
 * A vendor's error body is read whole (they are small; bounded by the JSON limit) and sent on with
 * every secret taken out: some OpenAI-compatible servers quote the request's Authorization header
 * (our upstream key) or the body back in their errors.
 */
function relayErrorBody(target: PassthroughTarget, upstream: IncomingMessage, response: ServerResponse, exchange: PassthroughExchange, status: number): void {
  const parts: Buffer[] = [];
  let receivedBytes = 0;
  upstream.on('data', (part: Buffer) => {
    receivedBytes += part.length;
    if (receivedBytes <= target.limits.maxBytes) parts.push(part);
    else upstream.destroy();
  });
  // Cut (or destroyed above for its size) before its end: the caller's connection is cut too.
  upstream.on('close', () => {
    if (upstream.complete && receivedBytes <= target.limits.maxBytes) return;
    void exchange.charge.finish({ upstreamStatus: status, error: 'upstream-cut' });
    response.destroy();
  });
  upstream.on('error', () => {}); // answered by the 'close' that follows it
  upstream.on('end', () => {
    if (receivedBytes > target.limits.maxBytes) return;
    void exchange.charge.finish({ upstreamStatus: status });
    const body = Buffer.from(errorSecrets.scrub(Buffer.concat(parts).toString('utf8')), 'utf8');
    const headers = callerResponseHeaders(upstream.headers);
    delete headers['content-length'];
    response.writeHead(status, { ...headers, 'content-length': body.length, 'x-sluice-route': target.backendId, 'x-sluice-cache': 'miss' });
    response.end(body);
  });
}

function writeError(response: ServerResponse, error: SluiceError): void {
  const answer = toErrorResponse(error);
  response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
  response.end(JSON.stringify(answer.body));
}

function exchangeOf(response: ServerResponse): PassthroughExchange {
  return (response as unknown as Response).locals.passthrough as PassthroughExchange;
}

function hasBody(request: Request): boolean {
  return request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
}

function isJson(request: Request): boolean {
  return Boolean(request.is(['application/json', 'application/*+json']));
}

function isMultipart(request: Request): boolean {
  return Boolean(request.is('multipart/form-data'));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
