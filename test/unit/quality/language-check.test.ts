import { describe, expect, it } from 'vitest';
import { detectLanguage } from '../../../src/quality/language-check.js';
import { THRESHOLD, verdict } from './quality-fixtures.js';

describe('language', () => {
  it('detects scripts and common Latin-script languages', () => {
    expect(detectLanguage('What is the tallest mountain in the world?')).toBe('en');
    expect(detectLanguage('Quelle est la plus haute montagne du monde ?')).toBe('fr');
    expect(detectLanguage('Was ist der höchste Berg der Welt und wie hoch ist er?')).toBe('de');
    expect(detectLanguage('¿Cuál es la montaña más alta del mundo?')).toBe('es');
    expect(detectLanguage('Wat is de hoogste berg van de wereld?')).toBe('nl');
    expect(detectLanguage('世界上最高的山是哪座？')).toBe('zh');
    expect(detectLanguage('世界で一番高い山はどこですか？')).toBe('ja');
    expect(detectLanguage('Какая самая высокая гора в мире?')).toBe('ru');
    expect(detectLanguage('8848 m')).toBeUndefined();
    // "a" is English too: a short English request is not Portuguese.
    expect(detectLanguage('Write a Python function that reverses a string.')).not.toBe('pt');
  });

  it('passes an answer in the language of the question', async () => {
    expect((await verdict('Quelle est la plus haute montagne du monde ?', "L'Everest est la plus haute montagne du monde, avec 8 849 mètres.")).score).toBe(1);
    expect((await verdict('世界上最高的山是哪座？', '世界上最高的山是珠穆朗玛峰，海拔8849米。')).score).toBe(1);
  });

  it('fails an answer in another language, naming both', async () => {
    const result = await verdict('Quelle est la plus haute montagne du monde ?', 'The highest mountain in the world is Mount Everest, at 8,849 metres.');
    expect(result.score).toBeLessThan(THRESHOLD);
    expect(result.reasons).toEqual(['language:en≠fr']);
    const script = await verdict('Какая самая высокая гора в мире?', 'The highest mountain in the world is Mount Everest.');
    expect(script.reasons).toEqual(['language:en≠ru']);
  });

  it('skips translations, a language asked for, and short answers', async () => {
    expect((await verdict('Translate "good morning" into French please.', 'Bonjour, comment allez-vous ce matin ?')).score).toBe(1);
    expect((await verdict('Explain what a haiku is, in Spanish.', 'Un haiku es un poema japonés breve de tres versos.')).score).toBe(1);
    expect((await verdict('Quelle est la capitale du Japon ?', 'Tokyo.')).score).toBe(1);
  });
});
