/**
 * A small JSON Schema validator for the subset structured outputs use: type, enum, const,
 * properties / required / additionalProperties, items, min/max(Items|Length|imum), anyOf / oneOf
 * / allOf and local `$ref`s. ajv is only a devDependency here (the production image prunes it),
 * and a scorer must not crash on a schema it half understands: unknown keywords pass.
 */

type Schema = Record<string, unknown>;

/** Deeper than this is a recursive schema or an answer built to hang us: it fails. */
const MAX_DEPTH = 64;

/** The first violation's JSON pointer-ish path, or undefined when the value conforms. */
export function schemaViolation(value: unknown, schema: unknown): string | undefined {
  return check(value, schema, isSchema(schema) ? schema : {}, '$', 0);
}

function check(value: unknown, schema: unknown, root: Schema, path: string, depth: number): string | undefined {
  if (depth > MAX_DEPTH) return path;
  if (schema === false) return path;
  if (!isSchema(schema)) return undefined;
  if (typeof schema.$ref === 'string') {
    const target = resolveRef(root, schema.$ref);
    if (target !== undefined) {
      const found = check(value, target, root, path, depth + 1);
      if (found) return found;
    }
  }
  return typeViolation(value, schema, path) ?? valueViolation(value, schema, path) ?? combinatorViolation(value, schema, root, path, depth) ?? childViolation(value, schema, root, path, depth);
}

function typeViolation(value: unknown, schema: Schema, path: string): string | undefined {
  if (schema.type === undefined) return undefined;
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  return types.some((type) => hasType(value, String(type))) ? undefined : path;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return isSchema(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'null':
      return value === null;
    default:
      return typeof value === type;
  }
}

function valueViolation(value: unknown, schema: Schema, path: string): string | undefined {
  if (Array.isArray(schema.enum) && !schema.enum.some((option) => sameJson(option, value))) return path;
  if ('const' in schema && !sameJson(schema.const, value)) return path;
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && [...value].length < schema.minLength) return path;
    if (typeof schema.maxLength === 'number' && [...value].length > schema.maxLength) return path;
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) return path;
    if (typeof schema.maximum === 'number' && value > schema.maximum) return path;
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) return path;
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) return path;
  }
  return undefined;
}

function combinatorViolation(value: unknown, schema: Schema, root: Schema, path: string, depth: number): string | undefined {
  if (Array.isArray(schema.allOf)) {
    for (const part of schema.allOf) {
      const found = check(value, part, root, path, depth + 1);
      if (found) return found;
    }
  }
  // oneOf is judged as anyOf: telling "exactly one" apart needs every branch tried, for little gain here.
  for (const options of [schema.anyOf, schema.oneOf]) {
    if (Array.isArray(options) && !options.some((option) => check(value, option, root, path, depth + 1) === undefined)) return path;
  }
  return undefined;
}

function childViolation(value: unknown, schema: Schema, root: Schema, path: string, depth: number): string | undefined {
  if (Array.isArray(value) && schema.items !== undefined && !Array.isArray(schema.items)) {
    for (const [index, item] of value.entries()) {
      const found = check(item, schema.items, root, `${path}[${index}]`, depth + 1);
      if (found) return found;
    }
  }
  if (!isSchema(value)) return undefined;
  const properties = isSchema(schema.properties) ? schema.properties : {};
  if (Array.isArray(schema.required)) {
    for (const key of schema.required) if (typeof key === 'string' && !(key in value)) return `${path}.${key}`;
  }
  for (const [key, item] of Object.entries(value)) {
    const itemSchema = key in properties ? properties[key] : schema.additionalProperties;
    const found = check(item, itemSchema, root, `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** `#/$defs/name`, `#/definitions/name`, `#`: the only references a self-contained schema has. */
function resolveRef(root: Schema, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const part of ref.slice(1).split('/').filter(Boolean)) {
    if (!isSchema(node)) return undefined;
    node = node[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node;
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameJson(left: unknown, right: unknown): boolean {
  return left === right || JSON.stringify(left) === JSON.stringify(right);
}
