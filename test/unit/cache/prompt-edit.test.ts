import { describe, expect, it } from 'vitest';
import { withoutCourtesy } from '../../../src/cache/courtesy.js';
import { judgePair, type PhraseSimilarity } from '../../../src/cache/pair-judge.js';
import { promptFacts } from '../../../src/cache/prompt-facts.js';
import { promptEdit } from '../../../src/cache/prompt-edit.js';

describe('promptEdit', () => {
  it.each([
    ['How do I center a div?', 'how do i center a div'],
    ['Cómo hago una tortilla', 'como hago una tortilla?'],
    ['whats the boiling point of milk', "What's the boiling point of milk?"],
    ['explain the offside rule in football', 'what is the offside rule in football'],
    ['how do I install nodejs on ubuntu', 'how do I instal nodejs on ubutnu'],
    ['waht does HTTP 418 mean', 'what does HTTP 418 mean'],
  ])('"%s" / "%s": the same words', (cached, asked) => {
    expect(promptEdit(cached, asked).kind).toBe('same');
  });

  it.each([
    ['in Rust, how do I read a file line by line', 'how do I read a file line by line in Rust'],
    ['for a beginner, which guitar should I buy', 'which guitar should I buy for a beginner'],
  ])('"%s" / "%s": one stretch moved', (cached, asked) => {
    expect(promptEdit(cached, asked).kind).toBe('moved');
  });

  it.each([
    ['is a lion stronger than a tiger', 'is a tiger stronger than a lion'],
    ['copy the file from staging to production', 'copy the file from production to staging'],
    ['does Spain export more oil than Norway', 'does Norway export more oil than Spain'],
  ])('"%s" / "%s": the same words in swapped roles', (cached, asked) => {
    expect(promptEdit(cached, asked).kind).toBe('reordered');
  });

  it('one word swapped for another, numbers left to the facts', () => {
    expect(promptEdit('how do I turn on dark mode in Slack', 'how do I turn off dark mode in Slack')).toEqual({ kind: 'substituted', removed: ['on'], added: ['off'] });
    expect(promptEdit('what is 12 times 7', 'what is 12 times 8').kind).toBe('same');
  });

  it('a word added to an otherwise identical prompt', () => {
    expect(promptEdit('best hiking trails near Denver', 'best easy hiking trails near Denver')).toEqual({ kind: 'substituted', removed: [], added: ['easy'] });
  });

  it.each([
    ['how meny ounces in a pound', 'how many ounces in a pound?'],
    ['refund not recieved yet', "I haven't received my refund yet"],
    ['wanna know the capital of peru', 'I want to know the capital of Peru'],
    ['what was the world population in the year 2000', 'what was the world population in 2000'],
    ['the app keeps crashing on startup', 'the app crashing on startup'],
    ['how to calcualte compound interest', 'how to calculate compound interest'],
    ['list all files including hidden ones', 'list all files, hidden ones included'],
    ['to make pancakes fluffy, what is the trick', 'what is the trick to making pancakes fluffy'],
  ])('typos, contractions, spoken spellings and empty words are no edit: "%s" / "%s"', (cached, asked) => {
    expect(['same', 'moved']).toContain(promptEdit(cached, asked).kind);
  });

  it('a one-letter change that makes another English word is still an edit', () => {
    expect(promptEdit('can I rent a bike here', 'can I sent a bike here').kind).toBe('substituted');
    expect(promptEdit('what does my cat eat', 'what does my car eat').kind).toBe('substituted');
  });

  it('a rewording is left to the embedding', () => {
    expect(promptEdit('my laptop battery drains fast, what can I do', 'tips to make a notebook battery last longer').kind).toBe('reworded');
  });
});

describe('judgePair', () => {
  const side = (question: string) => ({ question, facts: promptFacts(question) });
  /** Stands in for the embedding model: the pairs named are synonyms, everything else is not. */
  const synonyms: PhraseSimilarity = async (a, b) => (['begin|start', 'start|begin', 'purchase|buy', 'buy|purchase'].includes(`${a}|${b}`) ? 0.86 : 0.4);

  it('synonyms swapped keep the answer; other words swapped do not', async () => {
    expect(await judgePair(side('how do I begin a podcast'), side('how do I start a podcast'), synonyms, 0.7)).toEqual({ same: true });
    expect(await judgePair(side('how do I turn on dark mode in Slack'), side('how do I turn off dark mode in Slack'), synonyms, 0.7)).toMatchObject({ same: false });
  });

  it('roles swapped, or a word added, is another question', async () => {
    expect(await judgePair(side('is a lion stronger than a tiger'), side('is a tiger stronger than a lion'), synonyms, 0.7)).toMatchObject({ same: false });
    expect(await judgePair(side('best hiking trails near Denver'), side('best easy hiking trails near Denver'), synonyms, 0.7)).toMatchObject({ same: false, reason: expect.stringContaining('easy') });
  });

  it('without an embedder a swapped word WordNet does not know for a synonym is never taken for one', async () => {
    expect(await judgePair(side('what is the cost of shipping to Canada'), side('what is the cost of delivery to Canada'), undefined, 0.7)).toMatchObject({ same: false });
  });

  it.each([
    ['what is the main ingredient in guacamole', 'what is the primary ingredient in guacamole'],
    ['how do I cancel my order', 'how do I call off my order'],
    ['how do I terminate a running process on Linux', 'how do I kill a running process on Linux'],
    ['why is my docker image so big', 'why is my docker image so huge'],
  ])('WordNet synonyms keep the answer, no embedder asked: %s / %s', async (cached, asked) => {
    expect(await judgePair(side(cached), side(asked), undefined, 0.7)).toEqual({ same: true });
  });

  it.each([
    ["what's the max upload size on the free tier", "what's the max upload size on the paid tier"],
    ['should I accept the job offer', 'should I decline the job offer'],
    ['how do I cook salmon in the oven', 'how do I cook fish in the oven'],
    ['how do I encrypt a file with gpg', 'how do I decrypt a file with gpg'],
  ])('words WordNet does not link still veto: %s / %s', async (cached, asked) => {
    expect(await judgePair(side(cached), side(asked), undefined, 0.7)).toMatchObject({ same: false });
  });

  it('words said only in the talk around one question do not veto; words of the question do', async () => {
    const asked = (question: string) => ({ question, facts: promptFacts(withoutCourtesy(question)) });
    expect(await judgePair(asked('when is payday'), asked("I'm still new here: when is payday?"), undefined, 0.7)).toEqual({ same: true });
    expect(await judgePair(asked('when is payday'), asked("I'm new here: when is the next payday?"), undefined, 0.7)).toMatchObject({ same: false });
  });

  it('the facts decide first: another number is another question', async () => {
    expect(await judgePair(side('what is 12 times 7'), side('what is 12 times 8'), synonyms, 0.7)).toMatchObject({ same: false, reason: expect.stringContaining('numbers') });
  });
});
