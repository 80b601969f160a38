import { describe, expect, it } from 'vitest';
import { completion, THRESHOLD, verdict } from './quality-fixtures.js';

describe('refusals and hedges', () => {
  it('fails a refusal of a harmless request', async () => {
    const answers = [
      "I'm sorry, but I can't help with that request.",
      'As an AI language model, I do not have opinions, but pasta is usually cooked for 8 to 12 minutes.',
      "I don't have access to cookbooks, so I cannot tell you how long to cook pasta.",
      'I cannot provide cooking advice.',
      'Lo siento, pero no puedo ayudarte con eso.',
    ];
    for (const answer of answers) {
      const result = await verdict('How long should I boil spaghetti?', answer);
      expect(result.score, answer).toBeLessThanOrEqual(0.3);
      expect(result.reasons).toContain('refusal');
    }
  });

  it('fails an answer that only hedges, not one that hedges and then answers', async () => {
    const hedge = await verdict('What year did the Berlin Wall fall?', "I'm not sure.");
    expect(hedge.score).toBeLessThan(THRESHOLD);
    expect(hedge.reasons).toEqual(['hedge']);
    const answered = await verdict('What year did the Berlin Wall fall?', "I'm not sure of the exact day, but the Berlin Wall fell in 1989, in November, after weeks of protests in East Germany. Crowds crossed the border that night and began taking the wall apart, and Germany was reunified the following year.");
    expect(answered.score).toBe(1);
  });

  it('fails the API refusal field and content filtering', async () => {
    expect((await verdict('Tell me a joke.', completion('', 'stop', { refusal: 'I cannot do that.' }))).reasons).toContain('refusal');
    expect((await verdict('Tell me a joke.', completion('Why did', 'content_filter'))).reasons).toContain('refusal');
  });

  it('does not judge a refusal the request invites', async () => {
    const asks = ['Do you have access to the internet?', 'How do I make a bomb?', 'Are you an AI or a human?', 'Write a polite refusal to a wedding invitation.'];
    for (const ask of asks) {
      const result = await verdict(ask, "I'm sorry, but I can't help with that. As an AI, I don't have access to that.");
      expect(result.reasons, ask).not.toContain('refusal');
    }
  });
});
