import { describe, expect, it } from 'vitest';
import { withoutCourtesy } from '../../../src/cache/courtesy.js';
import { nearMissVerdict } from '../../../src/cache/near-miss-guard.js';
import { questionParts } from '../../../src/cache/prompt-clauses.js';
import { promptFacts } from '../../../src/cache/prompt-facts.js';

const verdict = (cached: string, asked: string) => nearMissVerdict(promptFacts(withoutCourtesy(cached)), promptFacts(withoutCourtesy(asked)));
const bothWays = (cached: string, asked: string) => [verdict(cached, asked).same, verdict(asked, cached).same];

describe('questionParts', () => {
  it('keeps what the asker says about themselves apart from what they ask', () => {
    expect(questionParts("I don't have buttermilk, what can I use instead?")).toEqual({ asking: 'what can I use instead?', context: "I don't have buttermilk", onlyStatements: false });
    expect(questionParts('I staged a file by mistake. How do I undo git add?')).toMatchObject({ asking: 'How do I undo git add?', context: 'I staged a file by mistake.' });
  });

  it('splits the frame of an indirect question from the question', () => {
    expect(questionParts("I can't remember how to reverse a list in Python")).toMatchObject({ asking: 'how to reverse a list in Python', context: "I can't remember" });
  });

  it('keeps requests, quoted text and what a task works on in the asking part', () => {
    expect(questionParts("I don't want to be charged for the upgrade")).toMatchObject({ context: '', onlyStatements: false });
    expect(questionParts('translate this into Italian: "I am late. My train left."').context).toBe('');
    expect(questionParts('answer in French: what is the boiling point of water').context).toBe('');
  });

  it('a prompt of statements only is all asking', () => {
    expect(questionParts('my pc wont turn on')).toEqual({ asking: 'my pc wont turn on', context: '', onlyStatements: true });
  });
});

describe('near-miss guard on the asking part', () => {
  it.each([
    ["what's a good substitute for buttermilk", "I don't have buttermilk, what can I use instead?"],
    ['how do I reverse a list in Python', "I can't remember how to reverse a list in Python"],
    ['who painted the Mona Lisa', "Hello, I'm visiting the Louvre next week and want to read up beforehand. Who painted the Mona Lisa?"],
    ['is the gym open on holidays', "Good morning! I just joined last week. I wanted to ask whether the gym is open on holidays."],
    ['can I freeze cooked rice', 'Hi! I always end up throwing half away, which feels wasteful. Can I freeze cooked rice?'],
    ['my pc wont turn on help', 'My computer does not power on. Could you assist me?'],
  ])('facts only in the talk around the question do not veto: %s / %s', (cached, asked) => {
    expect(bothWays(cached, asked)).toEqual([true, true]);
  });

  it.each([
    // The same statement on both sides, with another fact in it.
    ["I'm 25, how much should I save for retirement each month", "I'm 45, how much should I save for retirement each month"],
    ["I eat meat, what should I cook tonight?", "I don't eat meat, what should I cook tonight?"],
    // A fact of the question itself, however much talk surrounds it.
    ["Hi, I'm Anna from Berlin. What's the weather like in Paris today?", "what's the weather like in Berlin today"],
    ['how do I reverse a list in Python', "I can't remember how to reverse a list without a loop in Python"],
    ["what's 15% of 80", "I'm doing my taxes. What's 15% of 90?"],
    // A prompt of statements only is compared with all of the other.
    ['my pc turns on but is slow', 'My computer does not power on. Could you assist me?'],
  ])('still vetoes: %s / %s', (cached, asked) => {
    expect(bothWays(cached, asked)).toEqual([false, false]);
  });

  it('a fact may move between the statement and the question', () => {
    expect(verdict('how much protein do I need at 80 kg', 'I weigh 80 kg. How much protein do I need?')).toEqual({ same: true });
    expect(verdict('how much protein do I need at 80 kg', 'I weigh 90 kg. How much protein do I need?').same).toBe(false);
  });
});
