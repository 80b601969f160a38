import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { SluiceError } from '../../adapters/spec/index.js';
import { toErrorResponse } from './error-response.js';

export interface PassthroughTarget {
  backendId: string;
  baseUrl: string;
  apiKey?: string;
  timeoutMs: number;
}

/**
 * Every /v1 path Sluice does not implement goes to the upstream unchanged — bodies, multipart
 * and streams are piped, never buffered — with the caller's key swapped for the upstream's.
 */
export function passthroughProxy(target: PassthroughTarget | undefined): RequestHandler {
  if (!target) {
    return () => {
      throw new SluiceError('not-found', 'this path is not served by Sluice and no passthrough upstream is configured (set OPENAI_API_KEY)');
    };
  }
  return createProxyMiddleware<IncomingMessage, ServerResponse>({
    target: target.baseUrl,
    changeOrigin: true,
    proxyTimeout: target.timeoutMs,
    xfwd: false,
    on: {
      proxyReq: (proxyRequest: ClientRequest) => {
        proxyRequest.removeHeader('x-api-key');
        proxyRequest.removeHeader('api-key');
        if (target.apiKey) proxyRequest.setHeader('authorization', `Bearer ${target.apiKey}`);
        else proxyRequest.removeHeader('authorization');
      },
      proxyRes: (proxyResponse) => {
        proxyResponse.headers['x-sluice-route'] = target.backendId;
        proxyResponse.headers['x-sluice-cache'] = 'miss';
      },
      error: (error, _request, response) => {
        const failure = new SluiceError('upstream-unavailable', `${target.backendId} unreachable: ${error.message}`);
        const answer = toErrorResponse(failure);
        if ('headersSent' in response && !response.headersSent) {
          response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
          response.end(JSON.stringify(answer.body));
        } else {
          response.destroy();
        }
      },
    },
  }) as unknown as RequestHandler;
}
