import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { CallOptions } from '../../../adapters/spec/index.js';
import { withIdleTimeout } from '../../../src/pipeline/stream-idle-timeout.js';

const call = (timeoutMs: number): CallOptions => ({ requestId: 'req-1', signal: new AbortController().signal, timeoutMs });

/** A backend stream: each chunk after `gapsMs[i]` of silence; it stops early when its signal aborts. */
function source(gapsMs: readonly number[], seen: { signal?: AbortSignal }) {
  return (options: CallOptions) => {
    seen.signal = options.signal;
    return (async function* () {
      for (const [index, gap] of gapsMs.entries()) {
        await sleep(gap, undefined, { signal: options.signal });
        yield `chunk ${index}`;
      }
    })();
  };
}

async function drain(iterator: AsyncIterator<string>, pauseMs = 0): Promise<string[]> {
  const chunks: string[] = [];
  for (let result = await iterator.next(); !result.done; result = await iterator.next()) {
    chunks.push(result.value);
    if (pauseMs > 0) await sleep(pauseMs);
  }
  return chunks;
}

describe('withIdleTimeout', () => {
  it('lets a stream through whose every gap is shorter than the timeout, however long it lasts', async () => {
    const seen = {};
    const chunks = await drain(withIdleTimeout(source([30, 30, 30, 30, 30, 30], seen), call(80), 'vendor'));
    expect(chunks).toHaveLength(6);
  });

  it('fails a stream that goes silent with a timeout, and aborts the backend call', async () => {
    const seen: { signal?: AbortSignal } = {};
    const started = Date.now();
    const iterator = withIdleTimeout(source([10, 10, 5_000], seen), call(60), 'vendor');
    await expect(drain(iterator)).rejects.toMatchObject({ kind: 'timeout', message: 'vendor: the stream sent nothing for 60 ms' });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(seen.signal?.aborted).toBe(true);
  });

  it('does not count the time the caller takes between chunks (a slow client) as silence', async () => {
    const seen: { signal?: AbortSignal } = {};
    const chunks = await drain(withIdleTimeout(source([0, 0, 0, 0], seen), call(40), 'vendor'), 100);
    expect(chunks).toEqual(['chunk 0', 'chunk 1', 'chunk 2', 'chunk 3']);
    expect(seen.signal?.aborted).toBe(false);
  });
});
