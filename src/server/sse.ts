import type { Response } from 'express';
import { toErrorResponse } from './error-response.js';

/**
 * Headers that make proxies and browsers treat the answer as a live event stream. They leave
 * with the first frame (the stream starts once its first chunk is in hand), in one write.
 */
export function startEventStream(response: Response): void {
  response.status(200);
  response.setHeader('content-type', 'text/event-stream; charset=utf-8');
  response.setHeader('cache-control', 'no-cache');
  response.setHeader('connection', 'keep-alive');
  response.setHeader('x-accel-buffering', 'no');
}

/** Frames written in the same turn of the event loop leave in one write (one syscall), not one each. */
function corkForThisTurn(response: Response): void {
  if (response.writableCorked > 0) return;
  response.cork();
  process.nextTick(() => response.uncork());
}

async function writeFrame(response: Response, data: string): Promise<void> {
  if (response.destroyed) return;
  corkForThisTurn(response);
  if (!response.write(`data: ${data}\n\n`)) {
    await new Promise<void>((resolve) => {
      const done = () => {
        response.off('drain', done);
        response.off('close', done);
        resolve();
      };
      response.on('drain', done);
      response.on('close', done);
    });
  }
}

/**
 * Writes objects as `data:` frames and ends with `[DONE]`. If the source fails after the
 * stream began, one frame with the OpenAI error body goes out and the stream ends without
 * `[DONE]`, which would claim a complete answer.
 */
export async function pipeEventStream(
  response: Response,
  events: AsyncIterable<object>,
  hooks: { onFirst?: () => void; trailers?: () => Record<string, string> } = {},
): Promise<{ error?: unknown }> {
  let isFirst = true;
  try {
    for await (const event of events) {
      if (isFirst) hooks.onFirst?.();
      isFirst = false;
      if (response.destroyed) break;
      await writeFrame(response, JSON.stringify(event));
    }
    await writeFrame(response, '[DONE]');
    return {};
  } catch (error) {
    await writeFrame(response, JSON.stringify(toErrorResponse(error).body));
    return { error };
  } finally {
    if (!response.writableEnded) {
      const trailers = hooks.trailers?.();
      if (trailers && !response.destroyed) response.addTrailers(trailers);
      response.end();
    }
  }
}
