// @ts-check
// A few prompts per routing tier (from eval/routing/*.jsonl), drawn in the plan's traffic mix.

/** @typedef {{ tier: string, messages: Array<{ role: string, content: string }> }} Prompt */

const user = (/** @type {string} */ content) => [{ role: 'user', content }];

/** @type {Record<string, Array<Array<{ role: string, content: string }>>>} */
export const PROMPTS = {
  simple: [user("what's the capital of australia"), user('Convert 72 Fahrenheit to Celsius, just the number please.'), user('How many days are in a leap year?')],
  medium: [
    user('Explain how HTTPS keeps my password safe when I log in to a website, in a few paragraphs, for a non-technical person.'),
    user('Summarise the trade-offs between SQL and document databases for a small online shop.'),
  ],
  high: [user('prove that √2 is irrational'), user('design a rate limiter for 1M rps')],
  creative: [user('Write a short poem about rain on a tin roof.'), user('Invent a myth that explains why cats purr.')],
  brand: [
    [
      { role: 'system', content: 'You are Lumi, the customer assistant for Northwind Coffee Roasters. Brand voice: warm, a little playful, never pushy; no emojis.' },
      { role: 'user', content: 'Write the caption for our Instagram post announcing the new autumn blend.' },
    ],
  ],
};

/** 60% simple, 20% medium, 15% high or creative, 5% brand. */
export const MIX = [
  { tier: 'simple', share: 0.6 },
  { tier: 'medium', share: 0.2 },
  { tier: 'high', share: 0.075 },
  { tier: 'creative', share: 0.075 },
  { tier: 'brand', share: 0.05 },
];

/**
 * @param {number} draw 0..1
 * @returns {Prompt}
 */
export function pickPrompt(draw) {
  let floor = 0;
  for (const { tier, share } of MIX) {
    floor += share;
    if (draw < floor) {
      const choices = PROMPTS[tier];
      return { tier, messages: choices[Math.floor(((draw - floor + share) / share) * choices.length) % choices.length] };
    }
  }
  return { tier: 'simple', messages: PROMPTS.simple[0] };
}
