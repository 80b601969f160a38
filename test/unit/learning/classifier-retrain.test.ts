import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggedRequest, readLoggedExamples, readShippedSet, resolveSetDir, retrainClassifier, retrainSourceFor, type LoggedExample, type ShippedSet } from '../../../src/learning/classifier-retrain.js';
import { refittedClassifier } from '../../../src/learning/classifier-swap.js';
import { parseConfig } from '../../../src/config/load.js';
import { loadTierClassifier } from '../../../src/routing/tier-classifier.js';
import { openPgliteDatabase } from '../../../src/store/pglite-store.js';
import type { SqlDatabase } from '../../../src/store/sql-database.js';
import { lookupPrompt, seedMisrouted, timetablePrompt } from './classifier-log-fixture.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');
const shipped = loadTierClassifier();
const tierOf = (text: string, classifier = shipped) => classifier.classify(loggedRequest(text)).tier;
const poor = (count: number, prompt = timetablePrompt): LoggedExample[] => Array.from({ length: count }, (_, index) => ({ requestId: `poor-${index}`, routedTier: 'simple', tier: 'medium', text: prompt(index) }));
const confirmed = (count: number): LoggedExample[] => Array.from({ length: count }, (_, index) => ({ requestId: `good-${index}`, routedTier: 'simple', tier: 'simple', text: lookupPrompt(index) }));

describe('re-training the tier classifier', () => {
  let set: ShippedSet;
  beforeAll(() => {
    set = readShippedSet('eval/routing');
  });

  it('the shipped features-only model calls timetable word problems simple', () => {
    expect(Array.from({ length: 40 }, (_, index) => tierOf(timetablePrompt(index)))).toEqual(Array(40).fill('simple'));
  });

  it('accepts a re-fit on poor-rated timetable prompts that keeps held-out accuracy, and the re-fit routes unseen ones one tier up', () => {
    const result = retrainClassifier({ shipped: shipped.model, set, logged: [...poor(30), ...confirmed(20)], minExamples: 20 });
    expect(result.evidence).toMatchObject({ new_examples: 50, examples_by_label: { 'simple→medium': 30, simple: 20 }, heldout_items: set.heldout.length, in_force: 'shipped', accepted: true });
    expect(result.evidence.accuracy_after).toBeGreaterThanOrEqual(result.evidence.accuracy_before);
    const refit = refittedClassifier(shipped.model, result.featuresOnly!, 1);
    // Prompts 30..39 were not in the log.
    expect(Array.from({ length: 10 }, (_, index) => tierOf(timetablePrompt(30 + index), refit))).toEqual(Array(10).fill('medium'));
    for (const other of ['what is the capital of Peru?', 'how many legs does a spider have?', 'prove that √2 is irrational', 'Write a short poem about rain on a tin roof.']) {
      expect(tierOf(other, refit), other).toBe(tierOf(other));
    }
    expect(refit.model.trainedOn).toMatchObject({ refit: 'optimizer v1' });
    expect(refit.model.withEmbedding).toBe(shipped.model.withEmbedding);
  });

  it('refuses a re-fit that would lower held-out accuracy: lookups wrongly rated poor', () => {
    const wrong = poor(40, (index) => (index % 2 ? lookupPrompt(index) : `how many ${['days', 'weeks', 'hours', 'grams'][index % 4]} are in a ${['year', 'month', 'day', 'kilo'][index % 4]}?`));
    const result = retrainClassifier({ shipped: shipped.model, set, logged: wrong, minExamples: 20 });
    expect(result.featuresOnly).toBeUndefined();
    expect(result.evidence.accepted).toBe(false);
    expect(result.evidence.accuracy_after).toBeLessThan(result.evidence.accuracy_before);
    expect(result.evidence.reason).toMatch(/held-out accuracy would drop .*: the classifier stays/);
  });

  it('refuses under min_examples without fitting', () => {
    const result = retrainClassifier({ shipped: shipped.model, set, logged: poor(19), minExamples: 20 });
    expect(result.featuresOnly).toBeUndefined();
    expect(result.evidence).toMatchObject({ new_examples: 19, accuracy_after: null, accepted: false });
    expect(result.evidence.reason).toMatch(/19 labelled examples with a prompt, fewer than the 20/);
  });

  it('measures against the re-fit in force, and proposes nothing when the same window gives the same weights', () => {
    const logged = [...poor(30), ...confirmed(20)];
    const first = retrainClassifier({ shipped: shipped.model, set, logged, minExamples: 20 });
    const again = retrainClassifier({ shipped: shipped.model, set, logged, minExamples: 20, inForce: { version: 'optimizer v1', model: first.featuresOnly! } });
    expect(again.featuresOnly).toBeUndefined();
    expect(again.evidence).toMatchObject({ in_force: 'optimizer v1', accuracy_before: first.evidence.accuracy_after, accepted: false });
    expect(again.evidence.reason).toMatch(/is the classifier in force \(optimizer v1\) already/);
  });
});

describe('where the re-fit reads from', () => {
  let database: SqlDatabase;
  beforeAll(async () => {
    database = await openPgliteDatabase({ inMemory: true });
    await seedMisrouted(database, { poor: 3, confirmed: 2 });
  });
  afterAll(async () => database?.close());

  it('a poor rating of a simple-routed local answer labels its prompt medium, a good one confirms simple; a hashed prompt is no example', async () => {
    const examples = await readLoggedExamples(database, new Date(Date.now() - 7 * 86_400_000), 0.5);
    expect(examples.map((example) => [example.requestId, example.routedTier, example.tier])).toEqual([
      ['lookup-0', 'simple', 'simple'],
      ['lookup-1', 'simple', 'simple'],
      ['timetable-0', 'simple', 'medium'],
      ['timetable-1', 'simple', 'medium'],
      ['timetable-2', 'simple', 'medium'],
    ]);
    expect(examples.find((example) => example.requestId === 'timetable-0')?.text).toBe(timetablePrompt(0));
  });

  it('a missing set dir is a reason, not a crash; a relative one is found from the package root too', () => {
    const missing = retrainSourceFor(parseConfig({ learning: { optimizer: { retrain: { set_dir: 'no/such/routing-set' } } } }))();
    expect(missing).toEqual({ why: expect.stringMatching(/the routing set .*no\/such\/routing-set \(learning.optimizer.retrain.set_dir\) is not there/) });
    expect(retrainSourceFor(parseConfig({ learning: { optimizer: { retrain: { enabled: false } } } }))()).toEqual({ why: 'learning.optimizer.retrain.enabled is false' });
    expect(retrainSourceFor(parseConfig({ routing: { classifier: 'rules' } }))()).toEqual({ why: expect.stringMatching(/routing.classifier is "rules"/) });
    const elsewhere = mkdtempSync(join(tmpdir(), 'sluice-cwd-'));
    expect(resolveSetDir('eval/routing', elsewhere)).toBe(join(ROOT, 'eval', 'routing'));
    expect(resolveSetDir('/abs/set', elsewhere)).toBe('/abs/set');
    const source = retrainSourceFor(parseConfig({}))();
    expect('why' in source ? source.why : source.set.heldout.length).toBe(readShippedSet(join(ROOT, 'eval', 'routing')).heldout.length);
  });

  it('a set without held-out items is refused with the counts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-set-'));
    writeFileSync(join(dir, 'simple.jsonl'), `${JSON.stringify({ id: 's-1', split: 'train', tier: 'simple', messages: [{ role: 'user', content: 'hi' }] })}\n`);
    expect(() => readShippedSet(dir)).toThrow(/has 1 train and 0 held-out items: a re-fit needs both/);
  });
});
