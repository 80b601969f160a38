import { describe, expect, it } from 'vitest';
import { nearMissVerdict, readFacts } from '../../../src/cache/near-miss-guard.js';
import { promptFacts } from '../../../src/cache/prompt-facts.js';

function verdict(cached: string, asked: string) {
  return nearMissVerdict(promptFacts(cached), promptFacts(asked));
}

// [category, cached prompt, asked prompt]: close in embedding space, yet serving one's answer to the other is wrong.
const nearMisses: [string, string, string][] = [
  ['number', 'What is 15% of 80?', 'What is 15% of 90?'],
  ['number', 'How many calories are in 2 eggs?', 'How many calories are in 3 eggs?'],
  ['number', 'Convert 100 USD to EUR', 'Convert 1,000 USD to EUR'],
  ['number', "What's the square root of 144?", "What's the square root of 169?"],
  ['number', 'Is 17 a prime number?', 'Is 21 a prime number?'],
  ['number', 'Recommend three books on stoicism', 'Recommend five books on stoicism'],
  ['number', 'What is 2.5 times 4?', 'What is 2.05 times 4?'],
  ['number', "What's the second largest planet?", "What's the third largest planet?"],
  ['entity', "What's the capital of Australia?", "What's the capital of Austria?"],
  ['entity', 'Who founded Microsoft?', 'Who founded Apple?'],
  ['entity', 'How do I install Docker on Ubuntu?', 'How do I install Docker on Fedora?'],
  ['entity', 'what is the population of tokyo', 'what is the population of osaka'],
  ['entity', 'When did Marie Curie win the Nobel prize?', 'When did Albert Einstein win the Nobel prize?'],
  ['entity', 'Tell me about the history of Portugal', 'Tell me about the history of Spain'],
  ['entity', 'Describe the plot of Hamlet', 'Describe the plot of Macbeth'],
  ['date', 'What holidays are in December?', 'What holidays are in November?'],
  ['date', 'Weather forecast for tomorrow in Paris', 'Weather forecast for today in Paris'],
  ['date', 'Who won the World Cup in 2018?', 'Who won the World Cup in 2014?'],
  ['date', 'Is the museum open on Monday?', 'Is the museum open on Sunday?'],
  ['date', "What's on my calendar next week?", "What's on my calendar this week?"],
  ['unit', 'How many grams in a cup of flour?', 'How many ounces in a cup of flour?'],
  ['unit', 'What is 100 km in miles?', 'What is 100 km in meters?'],
  ['unit', 'Is 40°C hot for a human?', 'Is 40°F hot for a human?'],
  ['unit', 'How long does it take to walk 5 km?', 'How long does it take to walk 5 miles?'],
  ['unit', 'Set a timer for 10 minutes', 'Set a timer for 10 seconds'],
  ['unit', 'Is 5GB enough for a phone backup?', 'Is 5MB enough for a phone backup?'],
  ['negation', 'Which foods are safe for dogs?', 'Which foods are not safe for dogs?'],
  ['negation', 'Can I take ibuprofen with alcohol?', 'Can I take ibuprofen without alcohol?'],
  ['negation', 'Why does my code compile?', "Why doesn't my code compile?"],
  ['negation', 'Which countries use the euro?', 'Which countries never used the euro?'],
  ['negation', '¿Qué alimentos son seguros para perros?', '¿Qué alimentos no son seguros para perros?'],
  ['negation', 'Pourquoi mon code compile ?', 'Pourquoi mon code ne compile pas ?'],
  ['direction', 'Convert Celsius to Fahrenheit', 'Convert Fahrenheit to Celsius'],
  ['direction', 'Cheap flights from Paris to London', 'Cheap flights from London to Paris'],
  ['direction', 'Is a kilometer longer than a mile?', 'Is a mile longer than a kilometer?'],
  ['direction', 'How do I convert a string to an int in Python?', 'How do I convert an int to a string in Python?'],
  ['direction', 'How many pounds is 10 kg?', 'How many kg is 10 pounds?'],
  ['direction', 'How much is 50 dollars in euros?', 'How much is 50 euros in dollars?'],
  ['direction', 'Is Rust faster than Go for web servers?', 'Is Go faster than Rust for web servers?'],
  ['product', "What's new in Python 3.12?", "What's new in Python 3.11?"],
  ['product', 'How much does the iPhone 15 cost?', 'How much does the iPhone 14 cost?'],
  ['product', 'What is the context window of GPT-4o?', 'What is the context window of GPT-4?'],
  ['product', 'Does ES2015 support classes?', 'Does ES5 support classes?'],
  ['product', 'How do I upgrade to React 18?', 'How do I upgrade to React 17?'],
  ['product', 'Is the Pixel 8 waterproof?', 'Is the Galaxy S23 waterproof?'],
  ['language', 'What is the capital of France?', '¿Cuál es la capital de Francia?'],
  ['language', "Translate 'good morning' into French", "Translate 'good morning' into German"],
  ['language', 'How do you say thank you in Japanese?', 'How do you say thank you in Korean?'],
  ['language', 'Explain quantum computing', 'Объясни квантовые вычисления'],
  ['language', 'Explain recursion', 'Explain recursion in French'],
  ['polarity', 'What is the largest planet?', 'What is the smallest planet?'],
  ['polarity', 'What are the pros of remote work?', 'What are the cons of remote work?'],
  ['polarity', 'How do I enable dark mode on Windows?', 'How do I disable dark mode on Windows?'],
  ['polarity', 'How to encrypt a file with openssl', 'How to decrypt a file with openssl'],
  ['polarity', 'What is the cheapest way to get to the airport?', 'What is the fastest way to get to the airport?'],
  ['polarity', 'Sort the list in ascending order', 'Sort the list in descending order'],
  ['polarity', 'Which is the oldest university in Europe?', 'Which is the newest university in Europe?'],
  ['polarity', 'What is the largest ocean?', 'What is an ocean?'],
  ['polarity', 'Should I stretch before running?', 'Should I stretch after running?'],
  ['polarity', 'How do I delete a branch in git?', 'How do I create a branch in git?'],
  ['polarity', 'What is the boiling point of water?', 'What is the freezing point of water?'],
  ['polarity', 'Is 7 even?', 'Is 7 odd?'],
  ['polarity', 'Who was the first president of the USA?', 'Who was the last president of the USA?'],
  ['operation', 'What is 12 plus 7?', 'What is 12 times 7?'],
  ['operation', 'What is 20 minus 5?', 'What is 5 minus 20?'],
  ['operation', 'Summarize this paragraph about climate policy', 'Translate this paragraph about climate policy'],
  ['operation', "What's the average of 3, 5 and 10?", "What's the median of 3, 5 and 10?"],
  ['operation', 'Find the derivative of x^2', 'Find the integral of x^2'],
  ['operation', 'What is 2^10?', 'What is 2*10?'],
  ['operation', "What's 9 squared?", "What's 9 cubed?"],
];

// [kind, cached prompt, asked prompt]: the same question, however reworded; a veto here is a cache miss users pay for.
const paraphrases: [string, string, string][] = [
  ['reword', 'how do I reset my password', 'I forgot my password, what now?'],
  ['reword', 'whats the capital of france', 'Could you tell me the capital city of France?'],
  ['reword', 'What is 15% of 80?', "what's 15 percent of 80"],
  ['reword', 'Convert 1000 meters to kilometers', 'How many km is 1,000 m?'],
  ['reword', 'Who wrote Pride and Prejudice?', 'Pride and Prejudice was written by whom?'],
  ['reword', 'What is the height of Mount Everest?', 'How high is Mount Everest?'],
  ['reword', 'Why is the sky blue?', 'What makes the sky appear blue?'],
  ['synonym', 'Can you recommend a good book about habits?', 'Suggest a nice book on habits'],
  ['synonym', 'Is it safe to eat raw cookie dough?', 'Can you safely eat uncooked cookie dough?'],
  ['synonym', "What's 7 times 8?", 'What is seven multiplied by eight?'],
  ['synonym', 'Convert 5 kg to pounds', 'How many pounds is 5 kilograms?'],
  ['synonym', 'How many ounces are in a pound?', 'how many oz in 1 lb'],
  ['synonym', 'Best laptop for programming under $1000', "What's the best laptop for coding under 1000 dollars?"],
  ['synonym', 'What is the boiling point of water in Celsius?', 'At what temperature in °C does water boil?'],
  ['synonym', 'Give me 10 ideas for a birthday party', 'ten birthday party ideas please'],
  ['synonym', 'What are the health benefits of green tea?', 'Is green tea good for you?'],
  ['synonym', 'How long should I boil an egg?', 'How many minutes to boil an egg?'],
  ['synonym', 'what is 5 + 3', 'what is five plus three'],
  ['synonym', 'How many feet are in a mile?', 'How many feet in 1 mile?'],
  ['word order', 'In Python, how do I read a file line by line?', 'How do I read a file line by line in Python?'],
  ['word order', 'A leap year has how many days?', 'How many days are there in a leap year?'],
  ['word order', 'What is 1,000 divided by 8?', '1000 / 8 = ?'],
  ['formality', "Yo what's the weather gonna be like in London tomorrow", 'Could you please provide the weather forecast for London tomorrow?'],
  ['formality', 'Tell me a joke about cats', 'Would you be so kind as to share a funny joke about cats?'],
  ['formality', 'how do i center a div in css', 'What is the recommended way to center a div using CSS?'],
  ['typo', 'How do I uninstall pyhton on windows', 'How do I uninstall Python on Windows?'],
  ['typo', 'whats the captial of australia', "What's the capital of Australia?"],
  ['typo', 'What time zone is New York in?', 'which timezone does new york use'],
  ['verbose', 'Hi! I was wondering if you could possibly help me understand how photosynthesis works in plants, thanks so much', 'how does photosynthesis work'],
  ['verbose', 'flu symptoms?', 'What are the common symptoms of the flu?'],
  ['verbose', "What's the difference between a list and a tuple in Python?", 'list vs tuple in python'],
  ['imperative', 'Can you list the planets in our solar system?', 'List the planets in the solar system.'],
  ['imperative', 'Explain recursion', 'What is recursion?'],
  ['imperative', 'Define entropy', 'What does entropy mean?'],
  ['imperative', "Translate 'thank you' to Spanish", 'How do I say thank you in Spanish?'],
  ['negation', "Why doesn't my code compile?", 'Why does my code not compile?'],
  ['negation', 'Pourquoi mon code ne compile pas ?', "Pourquoi mon code n'arrive pas à compiler ?"],
  ['other language', '¿Cómo puedo aprender inglés rápido?', '¿Cuál es la forma más rápida de aprender inglés?'],
  ['other language', 'Wie spät ist es in Berlin?', 'Wie viel Uhr ist es gerade in Berlin?'],
];

describe('near-miss guard', () => {
  it.each(nearMisses)('vetoes a %s near-miss: %s / %s', (_category, cached, asked) => {
    const result = verdict(cached, asked);
    expect(result.same).toBe(false);
    expect(verdict(asked, cached).same).toBe(false);
  });

  it.each(paraphrases)('serves a %s paraphrase: %s / %s', (_kind, cached, asked) => {
    expect(verdict(cached, asked)).toEqual({ same: true });
    expect(verdict(asked, cached)).toEqual({ same: true });
  });

  it('names what differs, for the logs', () => {
    expect(verdict('What is 15% of 80?', 'What is 15% of 90?')).toEqual({ same: false, reason: 'numbers differ: 15%, 80 vs 15%, 90' });
    expect(verdict('What is the largest planet?', 'What is the smallest planet?')).toMatchObject({ reason: expect.stringMatching(/^polarity/) });
    expect(verdict('Convert Celsius to Fahrenheit', 'Convert Fahrenheit to Celsius')).toMatchObject({ reason: expect.stringMatching(/^direction/) });
  });
});

describe('prompt facts', () => {
  it('reads one number however it is written', () => {
    for (const written of ['1,000', '1000', '1 000', '1000.00']) expect(promptFacts(`Send ${written} emails`).numbers).toEqual(['1000']);
    expect(promptFacts('Pay 2.50 now').numbers).toEqual(promptFacts('Pay 2.5 now').numbers);
    expect(promptFacts('a dozen eggs').numbers).toEqual(promptFacts('12 eggs').numbers);
    expect(promptFacts('twenty-five percent').numbers).toEqual(['25%']);
  });

  it('reads fractions, scale words and counting words as the digits they stand for', () => {
    expect(promptFacts('convert 2½ kg to pounds').numbers).toEqual(promptFacts('convert 2.5 kg to pounds').numbers);
    expect(promptFacts('two and a half cups').numbers).toEqual(['2.5']);
    for (const written of ['1 million', '1,000,000', 'a million', 'one million']) expect(promptFacts(`${written} divided by 8`).numbers).toEqual(['1000000', '8']);
    expect(promptFacts('why was I charged twice').numbers).toEqual(promptFacts('why was I charged two times').numbers);
    expect(promptFacts('what is 3 squared plus 4 squared')).toMatchObject({ numbers: ['3', '2', '4', '2'], operations: ['power', 'sum'] });
    expect(promptFacts('what is 3^2 + 4^2')).toMatchObject({ numbers: ['3', '2', '4', '2'], operations: ['power', 'sum'] });
  });

  it('"one" as a pronoun, "a" in a rate and "a bit" count nothing', () => {
    for (const prompt of ["How does one change one's username?", 'Could you write one for me?', 'the premium one, how much more per month', 'how many meals a day does she need', "I'm a bit nervous about it", 'do I need a visa as a US citizen']) {
      expect(promptFacts(prompt).numbers).toEqual([]);
    }
    expect(promptFacts('what is one plus one').numbers).toEqual(['1', '1']);
    expect(promptFacts('how many calories in a pound of rice').numbers).toEqual(['1']);
  });

  it('numbers written another way are the same number; another number still vetoes', () => {
    expect(verdict('convert 2.5 kg to pounds', 'convert 2½ kg to pounds')).toEqual({ same: true });
    expect(verdict('how much is 1 million divided by 8', 'how much is 1,000,000 divided by 8')).toEqual({ same: true });
    expect(verdict('what is 3 squared plus 4 squared', 'what is 3^2 + 4^2')).toEqual({ same: true });
    expect(verdict('convert 2.5 kg to pounds', 'convert 3½ kg to pounds').same).toBe(false);
    expect(verdict('how much is 1 million divided by 8', 'how much is 2,000,000 divided by 8').same).toBe(false);
    expect(verdict('what is 3 squared', 'what is 3 cubed').same).toBe(false);
    expect(verdict('why was I charged twice', 'why was I charged three times').same).toBe(false);
  });

  it('"weekends" are Saturday and Sunday, not one of them', () => {
    expect(verdict('do you deliver on weekends', 'is Saturday or Sunday delivery an option?')).toEqual({ same: true });
    expect(verdict('do you deliver on weekends', 'do you deliver on Saturdays').same).toBe(false);
  });

  it('"what does X mean" is no average; "the mean of" is', () => {
    expect(promptFacts('what does HTTP 404 mean').operations).toEqual([]);
    expect(verdict("what's the mean of 2, 4, 4, 10", "what's the median of 2, 4, 4, 10").same).toBe(false);
  });

  it('canonicalises unit spellings', () => {
    expect(promptFacts('3 kilograms').units).toEqual(promptFacts('3kg').units);
    expect(promptFacts('30 degrees celsius').units).toEqual(promptFacts('30°C').units);
    expect(promptFacts('€20').units).toEqual(['EUR']);
  });

  it('detects the language from function words and script', () => {
    expect(promptFacts('What is the capital of France?').language).toBe('en');
    expect(promptFacts('¿Cuál es la capital de Francia?').language).toBe('es');
    expect(promptFacts('Quelle est la capitale de la France ?').language).toBe('fr');
    expect(promptFacts('Was ist die Hauptstadt von Frankreich?').language).toBe('de');
    expect(promptFacts('東京の人口は何人ですか').language).toBe('ja');
    expect(promptFacts('Paris?').language).toBe('und');
  });

  it('survives a JSON round trip, as it does through Redis', () => {
    const facts = promptFacts('Convert 5 kg to lb in Python 3.11 before Monday, not after');
    const stored: unknown = JSON.parse(JSON.stringify(facts));
    expect(stored).toEqual(facts);
    expect(readFacts(stored)).toEqual(facts);
    expect(nearMissVerdict(readFacts(stored)!, facts)).toEqual({ same: true });
  });
});

describe('readFacts', () => {
  const good = promptFacts('What is 15% of 80?');

  it.each<[string, unknown]>([
    ['nothing', undefined],
    ['null', null],
    ['a string', JSON.stringify(good)],
    ['an older version', { ...good, v: 1 }],
    ['a context of the wrong shape', { ...good, context: { numbers: 'none' } }],
    ['no version', { ...good, v: undefined }],
    ['numbers as numbers', { ...good, numbers: [15, 80] }],
    ['a missing list', { ...good, entities: undefined }],
    ['a negative negation count', { ...good, negations: -1 }],
    ['a one-sided direction', { ...good, direction: ['kg'] }],
    ['a non-string language', { ...good, language: 7 }],
  ])('rejects %s, so the entry is treated as a miss', (_what, value) => {
    expect(readFacts(value)).toBeUndefined();
  });
});
