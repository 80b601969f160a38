// Builds the smallest plausible value that satisfies a JSON Schema, the way the fake "fills in" tool
// arguments and `json_schema` answers: strings 'x', numbers 1, booleans true, one array item, enums their
// first member. It follows local `$ref`s (`#/$defs/…`, `#/definitions/…`), which zod and Pydantic emit.
import { isRecord } from './fake-openai-wire.js';

type Schema = Record<string, unknown>;

const maxDepth = 8;

export function valueFromSchema(schema: unknown, root: unknown = schema, depth = 0): unknown {
  if (!isRecord(schema) || depth > maxDepth) return null;
  const resolved = resolveRef(schema, root);
  if ('const' in resolved) return resolved.const;
  if (Array.isArray(resolved.enum) && resolved.enum.length > 0) return resolved.enum[0];
  const alternatives = resolved.anyOf ?? resolved.oneOf;
  if (Array.isArray(alternatives) && alternatives.length > 0) {
    const nonNull = alternatives.find((option) => !(isRecord(option) && option.type === 'null'));
    return valueFromSchema(nonNull ?? alternatives[0], root, depth + 1);
  }
  if (Array.isArray(resolved.allOf) && resolved.allOf.length > 0) {
    return valueFromSchema(Object.assign({}, ...resolved.allOf.filter(isRecord)), root, depth + 1);
  }
  switch (schemaType(resolved)) {
    case 'string':
      return stringFor(resolved);
    case 'integer':
      return numberFor(resolved, true);
    case 'number':
      return numberFor(resolved, false);
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'array':
      return arrayFor(resolved, root, depth);
    case 'object':
      return objectFor(resolved, root, depth);
    default:
      return 'x';
  }
}

function resolveRef(schema: Schema, root: unknown): Schema {
  if (typeof schema.$ref !== 'string' || !schema.$ref.startsWith('#')) return schema;
  let target: unknown = root;
  for (const segment of schema.$ref.slice(1).split('/').filter(Boolean)) {
    target = isRecord(target) ? target[segment.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  }
  return isRecord(target) ? target : {};
}

function schemaType(schema: Schema): string | undefined {
  const type = schema.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return type.find((entry) => entry !== 'null') ?? type[0];
  if (isRecord(schema.properties)) return 'object';
  if (schema.items !== undefined) return 'array';
  return undefined;
}

function stringFor(schema: Schema): string {
  const minLength = typeof schema.minLength === 'number' ? schema.minLength : 1;
  if (schema.format === 'date-time') return '2024-01-01T00:00:00Z';
  if (schema.format === 'date') return '2024-01-01';
  if (schema.format === 'email') return 'x@example.com';
  if (schema.format === 'uri') return 'https://example.com/x';
  if (schema.format === 'uuid') return '00000000-0000-4000-8000-000000000000';
  return 'x'.repeat(Math.max(1, minLength));
}

function numberFor(schema: Schema, isInteger: boolean): number {
  let value = 1;
  if (typeof schema.minimum === 'number' && value < schema.minimum) value = schema.minimum;
  if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) value = schema.exclusiveMinimum + 1;
  if (typeof schema.maximum === 'number' && value > schema.maximum) value = schema.maximum;
  if (typeof schema.exclusiveMaximum === 'number' && value >= schema.exclusiveMaximum) value = schema.exclusiveMaximum - 1;
  return isInteger ? Math.ceil(value) : value;
}

function arrayFor(schema: Schema, root: unknown, depth: number): unknown[] {
  const count = Math.max(1, typeof schema.minItems === 'number' ? schema.minItems : 1);
  if (Array.isArray(schema.prefixItems)) {
    return schema.prefixItems.map((item) => valueFromSchema(item, root, depth + 1));
  }
  return Array.from({ length: count }, () => valueFromSchema(schema.items ?? {}, root, depth + 1));
}

function objectFor(schema: Schema, root: unknown, depth: number): Record<string, unknown> {
  const properties = isRecord(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? schema.required.filter((name) => typeof name === 'string') : [];
  const object: Record<string, unknown> = {};
  // Every listed property, so strict schemas (all required) and loose ones (some optional) both hold.
  for (const name of new Set([...Object.keys(properties), ...required])) {
    object[name] = valueFromSchema(properties[name] ?? {}, root, depth + 1);
  }
  return object;
}
