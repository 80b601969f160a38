/**
 * Word error rate, as the sidecar's own speech tests measure it (python-sidecar/harness/
 * spoken_corpus.py): word-level edit distance over the reference's word count, after folding case,
 * accents and punctuation. Whisper's transcript of synthetic speech differs between machines of
 * the same kind ("brown fox" heard as "round-fark"), so tests on it bound this rate rather than
 * look for one word.
 */
export function normalisedWords(text: string): string[] {
  const folded = text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replaceAll("'", '');
  return folded.replace(/[^a-z0-9]+/g, ' ').trim().split(' ').filter(Boolean);
}

export function wordErrorRate(reference: string, hypothesis: string): number {
  const expected = normalisedWords(reference);
  if (expected.length === 0) throw new Error('the reference has no words');
  const heard = normalisedWords(hypothesis);
  // Levenshtein over words, one row at a time: substitutions, insertions and deletions cost 1.
  let previous = Array.from({ length: heard.length + 1 }, (_, column) => column);
  for (const [row, word] of expected.entries()) {
    const current = [row + 1];
    for (const [column, heardWord] of heard.entries()) {
      current.push(Math.min(previous[column + 1] + 1, current[column] + 1, previous[column] + (word === heardWord ? 0 : 1)));
    }
    previous = current;
  }
  return previous[heard.length] / expected.length;
}
