import { describe, expect, it } from 'vitest';
import { THRESHOLD, verdict } from './quality-fixtures.js';

const REPORT =
  'Acme Corp reported revenue of $4.2 million for the third quarter of 2023, up 12% from the previous year. ' +
  'The growth was driven by its new Falcon product line, launched in March by chief executive Maria Lopez. ' +
  'Operating costs rose to $3.1 million, mainly because the company opened a second warehouse in Rotterdam.';

describe('context support', () => {
  it('passes an answer drawn from the context', async () => {
    const ask = `Context: ${REPORT}\n\nQuestion: What drove Acme's growth, and who launched it?`;
    expect((await verdict(ask, 'The growth was driven by the Falcon product line, launched by Maria Lopez in March.')).score).toBe(1);
  });

  it('fails an answer whose numbers and names are not in the context', async () => {
    const ask = `Context: ${REPORT}\n\nQuestion: What drove Acme's growth, and who launched it?`;
    const result = await verdict(ask, 'Growth came from the Titan software suite, introduced by John Baker in 2019 with $9 billion of funding.');
    expect(result.score).toBeLessThan(THRESHOLD);
    expect(result.reasons).toEqual(['context:unsupported']);
  });

  it('finds fenced and quoted passages too', async () => {
    const fenced = `Using the document below, what were the operating costs?\n\`\`\`\n${REPORT}\n\`\`\``;
    expect((await verdict(fenced, 'Operating costs were $3.1 million.')).score).toBe(1);
    expect((await verdict(fenced, 'Operating costs were $7.8 million.')).score).toBeLessThan(THRESHOLD);
  });

  it('reads hyphenated figures as the numbers they contain', async () => {
    const ask = `Summarize: """${REPORT}"""`;
    expect((await verdict(ask, 'Acme earned $4.2 million in Q3 2023, a 12% rise led by the Falcon line, while a Rotterdam warehouse pushed costs to $3.1-million.')).score).toBe(1);
  });

  it('does not apply without a context, or to writing tasks', async () => {
    expect((await verdict('Who founded Microsoft?', 'Bill Gates and Paul Allen founded Microsoft in 1975.')).score).toBe(1);
    const poem = `Write a poem inspired by this text:\n"""\n${REPORT}\n"""`;
    expect((await verdict(poem, 'Through Rotterdam fog the falcons fly, numbers rising to the sky.')).score).toBe(1);
  });
});
