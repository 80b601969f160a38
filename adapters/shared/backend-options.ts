import type { z } from 'zod';

/**
 * A backend's `options` checked against its adapter's schema. Throws one Error naming every
 * offending field (`backends.deepseek.options.organisation: unrecognized key`), so a bad config
 * fails when the gateway is built rather than at the first request.
 */
export function parseBackendOptions<Schema extends z.ZodType>(schema: Schema, backendId: string, raw: unknown): z.output<Schema> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const path = [...issue.path.map(String), ...(keys.length > 0 ? [keys.join(', ')] : [])];
    return `backends.${backendId}.options${path.length > 0 ? `.${path.join('.')}` : ''}: ${issue.message}`;
  });
  throw new Error(problems.join('; '));
}
