import { describe, expect, it } from 'vitest';
import { toGrammarSchema } from '../../../../adapters/llama-cpp/json-schema-to-grammar-schema.js';
import { SluiceError } from '../../../../adapters/spec/index.js';

function thrown(action: () => unknown): SluiceError {
  try {
    action();
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error('expected a SluiceError');
}

describe('toGrammarSchema', () => {
  it('keeps what the grammar enforces and drops annotations', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: 'Person',
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, description: 'full name', examples: ['Ada'] },
        born: { type: 'string', format: 'date' },
        tags: { type: 'array', items: { enum: ['a', 'b'] }, maxItems: 3 },
        pet: { type: ['string', 'null'] },
      },
      required: ['name', 'born', 'tags', 'pet'],
      additionalProperties: false,
    };
    expect(toGrammarSchema(schema, 'response_format')).toEqual({
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, description: 'full name' },
        born: { type: 'string', format: 'date' },
        tags: { type: 'array', items: { enum: ['a', 'b'] }, maxItems: 3 },
        pet: { type: ['string', 'null'] },
      },
      required: ['name', 'born', 'tags', 'pet'],
      additionalProperties: false,
    });
  });

  it('translates anyOf, definitions and object-or-null type lists', () => {
    const schema = {
      type: 'object',
      definitions: { point: { type: 'object', properties: { x: { type: 'number' } } } },
      properties: {
        at: { $ref: '#/definitions/point' },
        either: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
        maybe: { type: ['object', 'null'], properties: { y: { type: 'boolean' } } },
      },
    };
    expect(toGrammarSchema(schema, 'response_format')).toEqual({
      type: 'object',
      $defs: { point: { type: 'object', properties: { x: { type: 'number' } } } },
      properties: {
        at: { $ref: '#/$defs/point' },
        either: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
        maybe: { oneOf: [{ type: 'object', properties: { y: { type: 'boolean' } } }, { type: 'null' }] },
      },
    });
  });

  it.each<[string, unknown, RegExp]>([
    ['a numeric bound', { type: 'object', properties: { age: { type: 'integer', minimum: 0 } } }, /"minimum" at #\/properties\/age/],
    ['a pattern', { type: 'string', pattern: '^a' }, /"pattern"/],
    ['allOf', { allOf: [{ type: 'string' }] }, /a schema needs a "type"/],
    ['an unenforceable format', { type: 'string', format: 'email' }, /format "email"/],
    ['an empty schema', { type: 'object', properties: { any: {} } }, /empty schema/],
    ['a remote $ref', { $ref: 'https://example.com/schema.json' }, /\$ref/],
    ['tuple-style items', { type: 'array', items: [{ type: 'string' }] }, /"items" must be one schema/],
    ['an unknown type', { type: 'date' }, /unknown type "date"/],
  ])('refuses %s with invalid-request naming the keyword', (_name, schema, message) => {
    const error = thrown(() => toGrammarSchema(schema, 'response_format'));
    expect(error.kind).toBe('invalid-request');
    expect(error.detail.param).toBe('response_format');
    expect(error.message).toMatch(message);
  });

  it('names the param it was given (tool parameters)', () => {
    expect(thrown(() => toGrammarSchema({ type: 'number', maximum: 3 }, 'tools[0].function.parameters')).detail.param).toBe('tools[0].function.parameters');
  });
});
