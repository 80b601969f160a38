import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CACHE_PAIRS_DIR,
  NEAR_MISS_CATEGORIES,
  PARAPHRASE_CATEGORIES,
  lastTurn,
  loadPairs,
  normaliseText,
  type CachePair,
  type PairKind,
} from '../../../eval/cache/pair-item.js';

// The cache's hit rate and its wrong-answer rate are measured on these pairs: a malformed line, a
// pair written twice or a category left thin would skew one of those numbers without anyone seeing.
const pairs = loadPairs();
const ofKind = (kind: PairKind): CachePair[] => pairs.filter((pair) => pair.kind === kind);

describe('the semantic-cache eval pairs', () => {
  it('load: every line valid, ids unique, at least 200 of each kind', () => {
    expect(new Set(pairs.map((pair) => pair.id)).size).toBe(pairs.length);
    expect(ofKind('paraphrase').length).toBeGreaterThanOrEqual(200);
    expect(ofKind('near-miss').length).toBeGreaterThanOrEqual(200);
  });

  it('hold out 20–30% of each kind, with held-out pairs in every category', () => {
    for (const kind of ['paraphrase', 'near-miss'] as const) {
      const all = ofKind(kind);
      const heldout = all.filter((pair) => pair.split === 'heldout');
      const share = heldout.length / all.length;
      expect(share, kind).toBeGreaterThanOrEqual(0.2);
      expect(share, kind).toBeLessThanOrEqual(0.3);
      expect(new Set(heldout.map((pair) => pair.category)), kind).toEqual(new Set(all.map((pair) => pair.category)));
    }
  });

  it('cover every category: each paraphrase kind, and at least 15 pairs of each near-miss kind', () => {
    const count = (category: string): number => pairs.filter((pair) => pair.category === category).length;
    for (const category of PARAPHRASE_CATEGORIES) expect(count(category), category).toBeGreaterThanOrEqual(10);
    for (const category of NEAR_MISS_CATEGORIES) expect(count(category), category).toBeGreaterThanOrEqual(15);
  });

  it('include system prompts, multi-turn conversations and other languages', () => {
    expect(pairs.filter((pair) => pair.a[0].role === 'system').length).toBeGreaterThanOrEqual(30);
    expect(pairs.filter((pair) => pair.a.some((message) => message.role === 'assistant')).length).toBeGreaterThanOrEqual(20);
    expect(ofKind('paraphrase').filter((pair) => pair.kind === 'paraphrase' && pair.lang && pair.lang !== 'en').length).toBeGreaterThanOrEqual(25);
  });

  it('differ within a pair even once normalised, except where only case or punctuation is the point', () => {
    // A typo pair may differ only in case or punctuation ("track package" / "Track package?"); any
    // other pair whose sides normalise alike is not testing what its category says.
    const alike = pairs.filter((pair) => pair.category !== 'typo' && normaliseText(lastTurn(pair.a)) === normaliseText(lastTurn(pair.b)));
    expect(alike.map((pair) => pair.id)).toEqual([]);
  });

  it('never repeat a pair, in either order, once normalised', () => {
    const seen = new Map<string, string>();
    const repeats: string[] = [];
    for (const pair of pairs) {
      const context = normaliseText(pair.a.slice(0, -1).map((message) => message.content).join(' '));
      const sides = [normaliseText(lastTurn(pair.a)), normaliseText(lastTurn(pair.b))].sort();
      const key = `${context}|${sides.join('|')}`;
      const first = seen.get(key);
      if (first) repeats.push(`${pair.id} repeats ${first}`);
      else seen.set(key, pair.id);
    }
    expect(repeats).toEqual([]);
  });
});

describe('loadPairs', () => {
  const firstLine = readFileSync(join(CACHE_PAIRS_DIR, 'paraphrase.jsonl'), 'utf8').split('\n')[0];
  const first = JSON.parse(firstLine) as CachePair;

  const loadFrom = (lines: string[]): (() => CachePair[]) => {
    const dir = mkdtempSync(join(tmpdir(), 'cache-pairs-'));
    writeFileSync(join(dir, 'x.jsonl'), `${lines.join('\n')}\n`);
    return () => loadPairs(dir);
  };

  it('throws with file:line on a duplicated id and on a line that is not JSON', () => {
    expect(loadFrom([firstLine, firstLine])).toThrow(/x\.jsonl:2: duplicate id p-001/);
    expect(loadFrom([firstLine, '{not json'])).toThrow(/x\.jsonl:2: not JSON/);
  });

  it('refuses a pair whose sides differ before the last turn, or do not differ at all', () => {
    const withSystem = { ...first, a: [{ role: 'system', content: 'Be brief.' }, ...first.a], b: [{ role: 'system', content: 'Be long.' }, ...first.b] };
    expect(loadFrom([JSON.stringify(withSystem)])).toThrow(/x\.jsonl:1: .*share every message but the last/);
    expect(loadFrom([JSON.stringify({ ...first, b: first.a })])).toThrow(/same text/);
  });

  it('refuses a category of the other kind and an id of the other prefix', () => {
    expect(loadFrom([JSON.stringify({ ...first, category: 'negation' })])).toThrow(/x\.jsonl:1: category/);
    expect(loadFrom([JSON.stringify({ ...first, id: 'n-001' })])).toThrow(/x\.jsonl:1: id/);
  });
});
