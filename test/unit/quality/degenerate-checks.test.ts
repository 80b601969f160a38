import { describe, expect, it } from 'vitest';
import { completion, THRESHOLD, verdict } from './quality-fixtures.js';

describe('degenerate output', () => {
  it('passes an ordinary answer', async () => {
    const result = await verdict('What is the boiling point of water at sea level?', 'Water boils at 100 °C (212 °F) at sea level, under standard atmospheric pressure.');
    expect(result).toEqual({ score: 1, reasons: [] });
  });

  it('fails an empty or whitespace answer, and one that is only special tokens', async () => {
    for (const answer of ['', '   \n\t ', '<|im_end|>', '...']) {
      const result = await verdict('Name a primary colour.', answer);
      expect(result.score).toBeLessThanOrEqual(0.3);
      expect(result.reasons).toContain('empty');
    }
  });

  it('does not call a tool call with no text empty', async () => {
    const answer = completion(null, 'tool_calls', { tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] });
    expect((await verdict('What is the weather in Paris?', answer)).score).toBe(1);
  });

  it('fails an answer cut off by the model, not one cut off at the limit the client chose', async () => {
    const cut = completion('The three main causes of the French Revolution were the financial crisis, social inequality between the estates, and', 'length');
    const failed = await verdict('What caused the French Revolution?', cut);
    expect(failed.score).toBeLessThanOrEqual(0.3);
    expect(failed.reasons).toEqual(['truncated']);
    const chosen = await verdict('What caused the French Revolution?', cut, { maxTokens: 20 });
    expect(chosen.score).toBeGreaterThanOrEqual(THRESHOLD);
  });

  it('fails a model stuck in a loop', async () => {
    const loop = 'The capital of France is Paris. '.repeat(12);
    const result = await verdict('What is the capital of France?', loop);
    expect(result.score).toBeLessThan(THRESHOLD);
    expect(result.reasons).toContain('repetition');
  });

  it('fails the same line repeated many times after a good start', async () => {
    const answer = ['Here are some tips for better sleep:', '1. Keep a regular schedule.', ...Array(6).fill('Make sure your bedroom is dark and quiet.')].join('\n');
    const result = await verdict('How can I sleep better?', answer);
    expect(result.score).toBeLessThan(THRESHOLD);
    expect(result.reasons).toContain('repetition');
  });

  it('passes a list whose items share a pattern, and code with repeated lines', async () => {
    const list = ['Monday: run 5 km at an easy pace.', 'Tuesday: strength training for the legs.', 'Wednesday: rest or gentle yoga.', 'Thursday: intervals, 6 × 400 m.', 'Friday: rest.', 'Saturday: long run of 12 km.', 'Sunday: rest.'].join('\n');
    expect((await verdict('Give me a weekly running plan.', list)).score).toBe(1);
    const code = 'Like this:\n```js\nconst a = require("a");\nconst b = require("b");\nconsole.log(a);\nconsole.log(a);\nconsole.log(a);\nconsole.log(a);\n```\nEach line logs the module.';
    expect((await verdict('Show me how to log a module in Node several times.', code)).score).toBe(1);
  });

  it('leaves short answers alone: "no, no, no" can be the answer', async () => {
    expect((await verdict('Should I text my ex at 3am?', 'No, no, no. Go to sleep.')).score).toBe(1);
  });
});
