import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { passesCheck } from '../../../eval/routing/answer-check.js';
import { loadRoutingSet, ROUTING_SET_DIR } from '../../../eval/routing/check-set.js';
import { buildRouterUnderTest } from '../../../eval/router-under-test.js';

// The labelled routing set is data that `make eval` and, later, the router's training read: a
// malformed line or a broken oracle would silently skew both.
describe('the labelled routing set', () => {
  it('is well formed: every item valid, ids unique, each oracle passing its own check', () => {
    const set = loadRoutingSet();
    expect(set.problems).toEqual([]);
    expect(set.items.length).toBeGreaterThanOrEqual(400);
    expect(new Set(set.items.map((item) => item.tier))).toEqual(new Set(['simple', 'medium', 'high', 'creative', 'brand']));
  });

  it('refuses a duplicated id and a line that is not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'routing-set-'));
    const first = readFileSync(join(ROUTING_SET_DIR, 'simple.jsonl'), 'utf8').split('\n')[0];
    writeFileSync(join(dir, 'a.jsonl'), `${first}\n${first}\n{not json\n`);
    const problems = loadRoutingSet(dir).problems.join('\n');
    expect(problems).toMatch(/duplicate/i);
    expect(problems).toMatch(/a\.jsonl:3/);
  });
});

describe('the routing eval', () => {
  it('builds the router from the shipped config: every backend type it holds has a known location', () => {
    const router = buildRouterUnderTest();
    expect(router.model('qwen2.5-coder-1.5b-instruct').backend).toBe('local-chat');
  });
});

describe('answer checks', () => {
  it('grade numbers, labels, JSON and substrings as a reader would', () => {
    expect(passesCheck({ kind: 'number', value: 12, tolerance: 0 }, 'It is 12.')).toBe(true);
    expect(passesCheck({ kind: 'number', value: 12, tolerance: 0 }, 'It is 13.')).toBe(false);
    expect(passesCheck({ kind: 'label', labels: ['positive', 'negative'], expected: 'negative' }, 'negative')).toBe(true);
    expect(passesCheck({ kind: 'label', labels: ['positive', 'negative'], expected: 'negative' }, 'positive or negative')).toBe(false);
    expect(passesCheck({ kind: 'json', required: ['name'] }, '```json\n{"name": "Ada"}\n```')).toBe(true);
    expect(passesCheck({ kind: 'json', required: ['name'] }, '{"age": 3}')).toBe(false);
    expect(passesCheck({ kind: 'contains', any: ['Paris'] }, 'the capital is paris')).toBe(true);
  });
});
