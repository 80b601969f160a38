import type { CheckOutcome, QualityCheck } from './quality-scorer.js';
import { viewOf } from './answer-view.js';
import { schemaViolation } from './json-schema-lite.js';

/**
 * `response_format` asked for JSON: a client will `JSON.parse` the content, so anything that does
 * not parse — prose, or JSON wrapped in a markdown fence — breaks it. A schema is checked too.
 */
export const formatCheck: QualityCheck = {
  name: 'format',
  weight: 1,
  hard: true,
  run(request, answer) {
    const format = request.response_format;
    const view = viewOf(request, answer);
    if (!format || format.type === 'text' || view.hasToolCalls) return undefined;
    const parsed = parseJson(view.text);
    if (!parsed.ok) return parseFailure(view.text);
    if (format.type === 'json_object') return isObject(parsed.value) ? 1 : { score: 0, reason: 'format:json-object' };
    const schema = format.json_schema.schema;
    if (!schema) return isObject(parsed.value) || Array.isArray(parsed.value) ? 1 : { score: 0, reason: 'format:schema' };
    return schemaViolation(parsed.value, schema) === undefined ? 1 : { score: 0, reason: 'format:schema' };
  },
};

/** The prompt asks for JSON in words, with no `response_format`: JSON must be there, fenced or not. */
const ASKS_FOR_JSON = /\b(?:(?:respond|reply|answer|return|output|format|give)\b[^.\n]{0,40}\bjson\b|json (?:only|object|format)|valid json)\b/;

export const jsonInstructionCheck: QualityCheck = {
  name: 'json',
  weight: 0.7,
  run(request, answer) {
    const view = viewOf(request, answer);
    if ((request.response_format && request.response_format.type !== 'text') || view.hasToolCalls || view.text === '') return undefined;
    if (!ASKS_FOR_JSON.test(view.instructions)) return undefined;
    if (parseJson(view.text).ok) return 1;
    const fenced = fencedBody(view.text) ?? outermostBraces(view.text);
    return fenced !== undefined && parseJson(fenced).ok ? 0.8 : { score: 0, reason: 'json' };
  },
};

/** Fenced but valid JSON is close to right, and still breaks the client's parse. */
function parseFailure(text: string): CheckOutcome {
  const fenced = fencedBody(text);
  if (fenced !== undefined && parseJson(fenced).ok) return { score: 0.2, reason: 'format:json-fenced' };
  return { score: 0, reason: 'format:json' };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function fencedBody(text: string): string | undefined {
  return /```(?:json)?\s*\n?([\s\S]*?)```/i.exec(text)?.[1];
}

function outermostBraces(text: string): string | undefined {
  const start = text.search(/[[{]/);
  const end = Math.max(text.lastIndexOf('}'), text.lastIndexOf(']'));
  return start >= 0 && end > start ? text.slice(start, end + 1) : undefined;
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
