/**
 * k6's HTTP calls block the VU until the response is in. A worker thread can do the same: it posts
 * the request to the host thread, which makes it with `fetch`, and sleeps on a shared flag
 * (`Atomics.wait`) until the host has posted the answer back and raised the flag. Both sides of the
 * exchange are here: `serveBridge` on the host, `requestSync` in the worker.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

export interface BridgeRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export interface BridgeResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Until the response head arrived (k6's `waiting`, time to first byte). */
  waitingMs: number;
  durationMs: number;
  error?: string;
}

export interface Bridge {
  port: MessagePort;
  /** An Int32Array's buffer: 0 while a request is in flight, 1 once its answer is posted. */
  flag: SharedArrayBuffer;
}

export function requestSync(bridge: Bridge, request: BridgeRequest): BridgeResponse {
  const flag = new Int32Array(bridge.flag);
  Atomics.store(flag, 0, 0);
  bridge.port.postMessage(request);
  Atomics.wait(flag, 0, 0, request.timeoutMs + 5_000);
  const reply = receiveMessageOnPort(bridge.port);
  if (!reply) throw new Error(`no answer from the host for ${request.method} ${request.url}`);
  return reply.message as BridgeResponse;
}

async function perform(request: BridgeRequest): Promise<BridgeResponse> {
  const startedAt = performance.now();
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(request.timeoutMs),
    });
    const waitingMs = performance.now() - startedAt;
    const body = await response.text();
    return { status: response.status, headers: Object.fromEntries(response.headers), body, waitingMs, durationMs: performance.now() - startedAt };
  } catch (error) {
    const elapsedMs = performance.now() - startedAt;
    return { status: 0, headers: {}, body: '', waitingMs: elapsedMs, durationMs: elapsedMs, error: String((error as Error).cause ?? error) };
  }
}

/** Host side: answers each request the worker posts on `port`, then wakes the worker. */
export function serveBridge(port: MessagePort, flagBuffer: SharedArrayBuffer): void {
  const flag = new Int32Array(flagBuffer);
  port.on('message', async (request: BridgeRequest) => {
    port.postMessage(await perform(request));
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  });
}
