import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { usageTapFor } from '../../../src/pipeline/passthrough-usage-tap.js';

const event = (type: string, payload: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;

// A Responses stream as OpenAI frames it, with text that is several bytes per character.
const responsesStream = [
  event('response.created', { response: { id: 'resp_1', usage: null } }),
  event('response.output_text.delta', { delta: 'héllo — 你好 "usage" 👋' }),
  event('response.completed', { response: { id: 'resp_1', usage: { input_tokens: 12, input_tokens_details: { cached_tokens: 4 }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 2 } } } }),
].join('');

const expected = { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 2 } };

/** Cuts `bytes` at the given offsets, as the network might. */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    pieces.push(bytes.subarray(start, point));
    start = point;
  }
  return pieces;
}

describe('the passthrough usage tap', () => {
  it('reads the usage of response.completed whatever the byte split, CRLF or LF', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 30 }), fc.boolean(), (cuts, isCrlf) => {
        const tap = usageTapFor('text/event-stream; charset=utf-8', 1 << 20);
        const text = isCrlf ? responsesStream.replaceAll('\n', '\r\n') : responsesStream;
        for (const piece of split(Buffer.from(text, 'utf8'), cuts)) tap.write(piece);
        expect(tap.usage()).toEqual(expected);
      }),
    );
  });

  it('reads the final usage chunk of a completions stream, and none when there is none', () => {
    const chunk = (payload: Record<string, unknown>) => `data: ${JSON.stringify(payload)}\n\n`;
    const withUsage = usageTapFor('text/event-stream', 1 << 20);
    withUsage.write(Buffer.from(`${chunk({ choices: [{ text: 'hi' }] })}${chunk({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } })}data: [DONE]\n\n`));
    expect(withUsage.usage()).toEqual({ prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 });
    const without = usageTapFor('text/event-stream', 1 << 20);
    without.write(Buffer.from(`${chunk({ choices: [{ text: 'hi' }] })}data: [DONE]\n\n`));
    expect(without.usage()).toBeUndefined();
  });

  it('reads a JSON answer’s usage, and gives up past its size cap instead of keeping the answer', () => {
    const answer = Buffer.from(JSON.stringify({ object: 'response', output: [], usage: { input_tokens: 5, output_tokens: 6 } }));
    const tap = usageTapFor('application/json', 1 << 20);
    for (const piece of split(answer, [3, 17, 40])) tap.write(piece);
    expect(tap.usage()).toEqual({ prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 });
    const capped = usageTapFor('application/json', 16);
    capped.write(answer);
    expect(capped.usage()).toBeUndefined();
  });
});
