import type { z } from 'zod';
import { SluiceError } from '../../adapters/spec/index.js';
import { fieldPath } from '../config/load.js';
import { clipClientValue, clipParam } from './error-text.js';

/** Parses with a zod schema; the first issue becomes a 400 naming the field. */
export function validate<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  if (body === undefined) {
    // No body parser matched: the client sent no body, or JSON under another content type.
    throw new SluiceError('invalid-request', "the request body must be a JSON object sent with 'Content-Type: application/json'");
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    const got = body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`;
    throw new SluiceError('invalid-request', `the request body must be a JSON object, not ${got}`);
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw issueToError(deepestIssue(parsed.error.issues), body);
}

/** zod 4 leaves `issue.input` out unless asked, so "missing" is read from the body itself. */
function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let value = body;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function issueToError(issue: z.core.$ZodIssue, body: unknown): SluiceError {
  if (issue.code === 'unrecognized_keys') {
    // The unknown key is the client's own text, maybe megabytes of it: quoted by a prefix only.
    const param = clipParam(fieldPath([...issue.path, clipClientValue(String(issue.keys[0]))]));
    return new SluiceError('invalid-request', `Unrecognized request argument supplied: ${param}`, { param });
  }
  const param = fieldPath(issue.path);
  const where = param ? `'${param}'` : 'the request body';
  // An absent discriminator (`messages[0].role`) fails as a union: missing too, as OpenAI words it.
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_union') && valueAt(body, issue.path) === undefined) {
    return new SluiceError('invalid-request', `Missing required parameter: ${where}.`, { param: param || undefined, code: 'missing_required_parameter' });
  }
  return new SluiceError('invalid-request', `Invalid value for ${where}: ${issue.message}`, { param: param || undefined, code: 'invalid_value' });
}

/**
 * A union that fails reports one issue per branch; the most useful one is the branch that
 * got furthest into the value, so `messages[0].content[0].image_url.url` beats `messages[0]`.
 */
function deepestIssue(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue {
  let best = issues[0];
  for (const issue of issues) {
    const candidate = issue.code === 'invalid_union' && issue.errors.length ? deepestIssue(issue.errors.flat().map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }))) : issue;
    if (candidate.path.length > best.path.length) best = candidate;
    else if (best.code === 'invalid_union' && candidate !== issue) best = candidate;
    // Same depth: a branch whose type matched (`stop` is an array, just too long) says more than "expected string".
    else if (candidate.path.length === best.path.length && best.code === 'invalid_type' && candidate.code !== 'invalid_type' && candidate.code !== 'invalid_union') best = candidate;
  }
  if (best.code === 'invalid_union' && best.errors.length) {
    const inner = deepestIssue(best.errors.flat().map((error) => ({ ...error, path: [...best.path, ...error.path] })));
    if (inner.path.length > best.path.length) return inner;
  }
  return best;
}
