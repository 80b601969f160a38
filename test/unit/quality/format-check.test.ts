import { describe, expect, it } from 'vitest';
import type { ResponseFormat } from '../../../adapters/spec/index.js';
import { schemaViolation } from '../../../src/quality/json-schema-lite.js';
import { THRESHOLD, verdict } from './quality-fixtures.js';

const JSON_OBJECT: ResponseFormat = { type: 'json_object' };
const PERSON: ResponseFormat = {
  type: 'json_schema',
  json_schema: {
    name: 'person',
    strict: true,
    schema: {
      type: 'object',
      properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 }, role: { enum: ['admin', 'user'] }, tags: { type: 'array', items: { type: 'string' } } },
      required: ['name', 'age', 'role'],
      additionalProperties: false,
    },
  },
};
const ASK = 'Extract the person from: "Ada, 36, administrator".';

describe('response_format', () => {
  it('passes a JSON object when json_object was asked for', async () => {
    expect(await verdict(ASK, '{"name": "Ada", "age": 36}', { format: JSON_OBJECT })).toEqual({ score: 1, reasons: [] });
  });

  it('fails prose, a fenced object, and an array', async () => {
    const prose = await verdict(ASK, 'The person is Ada, who is 36.', { format: JSON_OBJECT });
    expect(prose.score).toBeLessThanOrEqual(0.3);
    expect(prose.reasons).toEqual(['format:json']);
    const fenced = await verdict(ASK, '```json\n{"name": "Ada"}\n```', { format: JSON_OBJECT });
    expect(fenced.score).toBeLessThanOrEqual(0.3);
    expect(fenced.reasons).toEqual(['format:json-fenced']);
    expect((await verdict(ASK, '["Ada", 36]', { format: JSON_OBJECT })).reasons).toEqual(['format:json-object']);
  });

  it('validates against a json_schema', async () => {
    expect((await verdict(ASK, '{"name":"Ada","age":36,"role":"admin","tags":["math"]}', { format: PERSON })).score).toBe(1);
    for (const bad of ['{"name":"Ada","age":36}', '{"name":"Ada","age":"36","role":"admin"}', '{"name":"Ada","age":36,"role":"boss"}', '{"name":"Ada","age":36,"role":"admin","extra":1}', '{"name":"Ada","age":36,"role":"admin","tags":[1]}']) {
      const result = await verdict(ASK, bad, { format: PERSON });
      expect(result.score, bad).toBeLessThanOrEqual(0.3);
      expect(result.reasons).toEqual(['format:schema']);
    }
  });

  it('asks for JSON in words: JSON must be there', async () => {
    const ask = 'List three primary colours. Respond in JSON with a "colours" array.';
    expect((await verdict(ask, '{"colours": ["red", "yellow", "blue"]}')).score).toBe(1);
    expect((await verdict(ask, '```json\n{"colours": ["red", "yellow", "blue"]}\n```')).score).toBeGreaterThanOrEqual(THRESHOLD);
    const prose = await verdict(ask, 'The primary colours are red, yellow and blue.');
    expect(prose.score).toBeLessThan(THRESHOLD);
    expect(prose.reasons).toEqual(['json']);
  });
});

describe('schemaViolation', () => {
  it('follows local $refs, anyOf and nested items', () => {
    const schema = {
      $defs: { point: { type: 'object', properties: { x: { type: 'number' }, y: { type: 'number' } }, required: ['x', 'y'] } },
      type: 'object',
      properties: { points: { type: 'array', items: { $ref: '#/$defs/point' }, minItems: 1 }, label: { anyOf: [{ type: 'string' }, { type: 'null' }] } },
      required: ['points'],
    };
    expect(schemaViolation({ points: [{ x: 1, y: 2 }], label: null }, schema)).toBeUndefined();
    expect(schemaViolation({ points: [{ x: 1 }] }, schema)).toBe('$.points[0].y');
    expect(schemaViolation({ points: [] }, schema)).toBe('$.points');
    expect(schemaViolation({ points: [{ x: 1, y: 2 }], label: 3 }, schema)).toBe('$.label');
  });

  it('lets unknown keywords pass', () => {
    expect(schemaViolation('2024-01-01', { type: 'string', format: 'date', pattern: '^\\d' })).toBeUndefined();
  });
});
