import { describe, expect, it } from 'vitest';
import { withoutCourtesy } from '../../../src/cache/courtesy.js';
import { promptFacts } from '../../../src/cache/prompt-facts.js';
import { judgePair } from '../../../src/cache/pair-judge.js';

const side = (question: string) => ({ question, facts: promptFacts(withoutCourtesy(question)) });

describe('withoutCourtesy', () => {
  it.each([
    ["Hi there! Hope you're having a good day. How do I export my data? Thanks so much in advance!", 'How do I export my data?'],
    ['I hope this isn\'t a bother. How many cents is 100 USD?', 'How many cents is 100 USD?'],
    ['Sorry to bother you, but could you write a regex for an email address, please?', 'could you write a regex for an email address,'],
    ['Bonjour ! Comment supprimer mon compte ? Merci beaucoup', 'Comment supprimer mon compte ?'],
    ['How do I undo git add, if it\'s not too much trouble?', 'How do I undo git add,'],
  ])('%j → %j', (text, expected) => {
    expect(withoutCourtesy(text).replace(/[?.!]$/, '')).toBe(expected.replace(/[?.!]$/, ''));
  });

  it.each([
    'is it rude not to say thank you',
    'what does please mean',
    'Say hello in French',
    'thanks',
    'how do you greet someone good morning in Japanese',
    "I don't have a receipt, can I still return it?",
  ])('leaves the question itself alone: %j', (text) => {
    expect(withoutCourtesy(text)).toBe(text);
  });

  it('a negation in the courtesy no longer reads as a negated question; one in the question still does', async () => {
    const plain = side('how many cents is 100 USD');
    expect((await judgePair(plain, side("I hope this isn't a bother. How many cents is 100 USD?"), undefined, 0.7)).same).toBe(true);
    expect((await judgePair(side('can I return it'), side("Hi! I can't return it?"), undefined, 0.7)).same).toBe(false);
  });
});
