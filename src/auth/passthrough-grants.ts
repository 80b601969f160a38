import type { Tenant } from './tenant.js';

/**
 * A grant names a path prefix a key may reach through the passthrough, optionally for one method
 * only: `/v1/files` (any method on /v1/files and below), `POST /v1/responses`, `GET /v1/chat/completions`.
 * The syntax is checked where keys are made (config schema, admin API); `/v1` grants every path.
 */
interface Grant {
  method?: string;
  prefix: string;
}

function parseGrant(text: string): Grant {
  const space = text.indexOf(' ');
  if (space < 0) return { prefix: text.toLowerCase() };
  return { method: text.slice(0, space).toUpperCase(), prefix: text.slice(space + 1).toLowerCase() };
}

/**
 * Whether the tenant may send `method path` through the passthrough. `path` is the normalised
 * path (passthrough-path.ts). A prefix matches whole segments only: `/v1/files` covers
 * `/v1/files/file-1` but not `/v1/filesystem`. Compared without case, as the vendor's router may be.
 */
export function mayUsePassthrough(tenant: Tenant, method: string, path: string): boolean {
  const lowered = path.toLowerCase();
  return (tenant.passthroughPaths ?? []).some((text) => {
    const grant = parseGrant(text);
    if (grant.method && grant.method !== method.toUpperCase()) return false;
    return lowered === grant.prefix || lowered.startsWith(`${grant.prefix}/`);
  });
}
