import { describe, expect, it } from 'vitest';
import { labelsOf } from '../../../src/quality/instruction-checks.js';
import { THRESHOLD, verdict } from './quality-fixtures.js';

async function expectPass(ask: string, answer: string, system?: string): Promise<void> {
  const result = await verdict(ask, answer, { system });
  expect(result.score, `${ask} → ${answer}: ${result.reasons.join(',')}`).toBeGreaterThanOrEqual(THRESHOLD);
}

async function expectFail(ask: string, answer: string, reason: string, system?: string): Promise<void> {
  const result = await verdict(ask, answer, { system });
  expect(result.score, `${ask} → ${answer}`).toBeLessThan(THRESHOLD);
  expect(result.reasons).toContain(reason);
}

describe('answer-shape instructions', () => {
  it('"only the number"', async () => {
    const ask = 'What is 17 × 3? Reply with only the number.';
    for (const answer of ['51', '51.', '**51**', ' 51 ']) await expectPass(ask, answer);
    await expectPass('How many km from Paris to Lyon? Just the number.', '465 km');
    await expectPass('What is the price? Answer with a number.', '$1,200.50');
    await expectFail(ask, 'The answer is 51.', 'only-number');
    await expectFail(ask, 'Fifty-one.', 'only-number');
    await expectFail('Give the total.', 'The total is fifty-one, because 17 times 3 is 51.', 'only-number', 'Output only the number, nothing else.');
  });

  it('"in one word"', async () => {
    const ask = 'What colour is the sky on a clear day? Answer in one word.';
    await expectPass(ask, 'Blue.');
    await expectPass(ask, '**Blue**');
    await expectFail(ask, 'The sky is blue on a clear day.', 'one-word');
  });

  it('"yes or no"', async () => {
    const ask = 'Is Paris the capital of France? Answer yes or no.';
    await expectPass(ask, 'Yes.');
    await expectPass(ask, 'Yes, it is.');
    await expectPass('Yes or no: is 7 a prime number?', 'No');
    await expectFail(ask, 'Paris has been the capital of France since the 10th century.', 'yes-no');
  });

  it('classification labels', async () => {
    const ask = 'Classify the sentiment of this review as positive, negative or neutral: "The battery died after two days."';
    await expectPass(ask, 'negative');
    await expectPass(ask, 'Negative');
    await expectPass(ask, 'Negative - the battery failed quickly.');
    await expectFail(ask, 'The customer seems unhappy with the product.', 'label');
    await expectFail(ask, 'It could be negative or neutral depending on expectations.', 'label');
    await expectPass('Ticket: "I was charged twice." Label: billing/technical/other', 'billing');
    await expectFail('Ticket: "I was charged twice." Label: billing/technical/other', 'This is a duplicate charge issue.', 'label');
    await expectPass('Choose one of: apple, banana, cherry. Which fruit is yellow?', 'banana');
  });

  it('finds the labels a prompt offers, and none in a question about classifying', () => {
    expect(labelsOf('classify the sentiment as positive, negative or neutral.')).toEqual(['positive', 'negative', 'neutral']);
    expect(labelsOf('label: spam / ham')).toEqual(['spam', 'ham']);
    expect(labelsOf('how do biologists classify animals as mammals or reptiles?')).toEqual([]);
  });

  it('length instructions, within slack', async () => {
    const ask = 'Explain photosynthesis in one sentence.';
    await expectPass(ask, 'Photosynthesis is the process by which plants use sunlight, water and carbon dioxide to make glucose and release oxygen.');
    await expectFail(ask, 'Photosynthesis happens in plants. It uses sunlight. Chlorophyll absorbs light. Water is split. Oxygen is released. Glucose is made.', 'length:sentences');
    const words = 'Describe the ocean in under 10 words.';
    await expectPass(words, 'Vast, deep, salty, and full of life.');
    await expectPass(words, 'A vast, deep, salty body of water full of life.');
    await expectFail(words, 'The ocean is a vast and deep body of salt water that covers most of the surface of our planet and is home to countless species of fish, mammals and plants.', 'length:words');
  });

  it('knows the same instructions in a few other languages', async () => {
    await expectPass('Quelle est la couleur du ciel ? Réponds en un mot.', 'Bleu.');
    await expectFail('Quelle est la couleur du ciel ? Réponds en un mot.', 'Le ciel est bleu quand il fait beau.', 'one-word');
    await expectPass('Paris est-elle la capitale de la France ? Réponds par oui ou non.', 'Oui.');
  });

  it('does not apply when nothing was instructed', async () => {
    expect(await verdict('What is 17 × 3?', 'The answer is 51, since 17 × 3 = 51.')).toEqual({ score: 1, reasons: [] });
  });
});
