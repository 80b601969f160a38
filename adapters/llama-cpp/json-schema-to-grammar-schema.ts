import type { GbnfJsonSchema } from 'node-llama-cpp';
import { SluiceError } from '../spec/index.js';

type Schema = Record<string, unknown>;

/** Notes for readers and validators; the grammar has no use for them. */
const ANNOTATIONS = new Set(['title', '$schema', '$id', '$comment', 'examples', 'default', 'deprecated', 'readOnly', 'writeOnly']);

/** What node-llama-cpp's JSON-schema grammar can enforce, by the keyword that selects the form. */
const KEYWORDS = {
  common: ['type', 'description', '$defs'],
  string: ['minLength', 'maxLength', 'format'],
  object: ['properties', 'required', 'additionalProperties', 'minProperties', 'maxProperties'],
  array: ['items', 'prefixItems', 'minItems', 'maxItems'],
} as const;
const STRING_FORMATS = new Set(['date-time', 'date', 'time']);
const SCALAR_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null']);

/**
 * Turns a request's JSON Schema into the subset node-llama-cpp compiles to a grammar, or
 * rejects it naming the keyword. Rejecting beats ignoring: a grammar that silently dropped
 * `minimum` or `pattern` would produce JSON that fails the caller's own validation.
 *
 * Translations: `anyOf` → `oneOf` (generating one branch satisfies either), `definitions` →
 * `$defs`, a `type` list that includes object or array → `oneOf` over the types. Every listed
 * property is always generated (the grammar cannot leave one out), which any `required` allows.
 */
export function toGrammarSchema(schema: unknown, param: string): GbnfJsonSchema {
  return translate(schema, param, '#') as GbnfJsonSchema;
}

function translate(node: unknown, param: string, at: string): Schema {
  if (node === true || (isObject(node) && Object.keys(node).length === 0)) {
    throw unsupported(param, at, 'an empty schema (any value) cannot be generated; give it a type');
  }
  if (!isObject(node)) throw unsupported(param, at, 'a schema must be an object');
  const source: Schema = { ...node };
  if ('definitions' in source) {
    source.$defs = source.definitions;
    delete source.definitions;
  }
  for (const key of Object.keys(source)) if (ANNOTATIONS.has(key)) delete source[key];
  if (typeof source.$ref === 'string') return translateRef(source, param, at);
  if ('const' in source || 'enum' in source) return translateLiteral(source, param, at);
  if ('anyOf' in source || 'oneOf' in source) return translateUnion(source, param, at);
  if (Array.isArray(source.type)) return translateTypeList(source, param, at);
  return translateTyped(source, param, at);
}

function translateTyped(source: Schema, param: string, at: string): Schema {
  const type = source.type;
  if (typeof type !== 'string') throw unsupported(param, at, 'a schema needs a "type"');
  const extra = type === 'object' ? KEYWORDS.object : type === 'array' ? KEYWORDS.array : type === 'string' ? KEYWORDS.string : [];
  if (type !== 'object' && type !== 'array' && !SCALAR_TYPES.has(type)) throw unsupported(param, at, `unknown type "${type}"`);
  rejectOthers(source, [...KEYWORDS.common, ...extra], param, at);
  const result: Schema = { ...source };
  withDefs(result, param, at);
  if (type === 'string' && source.format !== undefined && !STRING_FORMATS.has(String(source.format))) {
    throw unsupported(param, at, `format "${String(source.format)}" (only date-time, date and time can be enforced)`);
  }
  if (type === 'object' && isObject(source.properties)) {
    result.properties = Object.fromEntries(
      Object.entries(source.properties).map(([name, child]) => [name, translate(child, param, `${at}/properties/${name}`)]),
    );
  }
  if (type === 'object' && isObject(source.additionalProperties)) {
    result.additionalProperties = translate(source.additionalProperties, param, `${at}/additionalProperties`);
  }
  if (type === 'array' && source.items !== undefined) {
    if (!isObject(source.items)) throw unsupported(param, `${at}/items`, '"items" must be one schema');
    result.items = translate(source.items, param, `${at}/items`);
  }
  if (type === 'array' && Array.isArray(source.prefixItems)) {
    result.prefixItems = source.prefixItems.map((child, index) => translate(child, param, `${at}/prefixItems/${index}`));
  }
  return result;
}

function translateTypeList(source: Schema, param: string, at: string): Schema {
  const types = source.type as unknown[];
  if (types.every((type) => typeof type === 'string' && SCALAR_TYPES.has(type)) && types.length > 0) {
    rejectOthers(source, KEYWORDS.common, param, at);
    return { ...source };
  }
  const { type: _types, description, ...rest } = source;
  const branches = types.map((type, index) => translate({ ...keywordsOf(rest, type), type }, param, `${at}/type/${index}`));
  return { oneOf: branches, ...(description !== undefined && { description }) };
}

/** The keywords of `source` that apply to one type of a type list (`properties` to object, …). */
function keywordsOf(source: Schema, type: unknown): Schema {
  const own: readonly string[] = type === 'object' ? KEYWORDS.object : type === 'array' ? KEYWORDS.array : type === 'string' ? KEYWORDS.string : [];
  const shared = Object.values(KEYWORDS).flat() as string[];
  return Object.fromEntries(Object.entries(source).filter(([key]) => own.includes(key) || !shared.includes(key)));
}

function translateUnion(source: Schema, param: string, at: string): Schema {
  const keyword = 'oneOf' in source ? 'oneOf' : 'anyOf';
  rejectOthers(source, [keyword, 'description', '$defs'], param, at);
  const branches = source[keyword];
  if (!Array.isArray(branches) || branches.length === 0) throw unsupported(param, at, `"${keyword}" needs at least one schema`);
  const result: Schema = { oneOf: branches.map((child, index) => translate(child, param, `${at}/${keyword}/${index}`)) };
  if (source.description !== undefined) result.description = source.description;
  if (source.$defs !== undefined) result.$defs = source.$defs;
  withDefs(result, param, at);
  return result;
}

function translateLiteral(source: Schema, param: string, at: string): Schema {
  const keyword = 'const' in source ? 'const' : 'enum';
  rejectOthers(source, [keyword, 'description', 'type'], param, at);
  const values = keyword === 'const' ? [source.const] : source.enum;
  if (!Array.isArray(values) || values.length === 0) throw unsupported(param, at, '"enum" needs at least one value');
  if (!values.every((value) => value === null || ['string', 'number', 'boolean'].includes(typeof value))) {
    throw unsupported(param, at, `"${keyword}" values must be strings, numbers, booleans or null`);
  }
  const { type: _type, ...literal } = source;
  return literal;
}

function translateRef(source: Schema, param: string, at: string): Schema {
  rejectOthers(source, ['$ref', 'description', '$defs'], param, at);
  const ref = (source.$ref as string).replace(/^#\/definitions\//, '#/$defs/');
  if (!/^#\/\$defs\/[^/]+$/.test(ref)) throw unsupported(param, at, `$ref "${String(source.$ref)}" (only "#/$defs/<name>" is supported)`);
  const result: Schema = { ...source, $ref: ref };
  withDefs(result, param, at);
  return result;
}

function withDefs(result: Schema, param: string, at: string): void {
  if (result.$defs === undefined) return;
  if (!isObject(result.$defs)) throw unsupported(param, at, '"$defs" must be an object');
  result.$defs = Object.fromEntries(Object.entries(result.$defs).map(([name, child]) => [name, translate(child, param, `${at}/$defs/${name}`)]));
}

function rejectOthers(source: Schema, allowed: readonly string[], param: string, at: string): void {
  const extra = Object.keys(source).filter((key) => !allowed.includes(key));
  if (extra.length > 0) throw unsupported(param, at, `keyword${extra.length > 1 ? 's' : ''} ${extra.map((key) => `"${key}"`).join(', ')}`);
}

function unsupported(param: string, at: string, what: string): SluiceError {
  return new SluiceError('invalid-request', `the local model cannot enforce this JSON schema: ${what} at ${at}`, { param });
}

function isObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
