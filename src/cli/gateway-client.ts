import type { Config } from '../config/schema.js';
import { CliError, type CommandContext } from './command-context.js';
import { heldPgliteMessage, isGatewayUp, localGatewayUrl, usesPglite } from './log-database.js';

/**
 * The gateway a command that reads the log asks through its admin routes, or undefined to open
 * the store itself. `--url` (or SLUICE_URL) names one; otherwise a gateway answering on the
 * configured port is asked, so that it is the one process with its database open (PGlite allows
 * one only: a second reads stale pages and can corrupt the directory) and so that what the
 * command changes reaches its live state. Without the master key a held PGlite is refused; a
 * Postgres store is read directly, with a note.
 */
export async function gatewayToAsk(command: string, config: Config, explicitUrl: string | undefined, context: CommandContext): Promise<string | undefined> {
  if (explicitUrl) return explicitUrl;
  const gatewayUrl = localGatewayUrl(config);
  if (!(await isGatewayUp(gatewayUrl))) return undefined;
  if (!config.auth.master_key) {
    if (usesPglite(config)) throw new CliError(heldPgliteMessage(command, config, gatewayUrl, `set SLUICE_MASTER_KEY to ask the gateway (sluice ${command} --url), or stop it first`));
    context.stderr.write(`sluice: a gateway runs at ${gatewayUrl}, but without SLUICE_MASTER_KEY it cannot be asked: reading the database directly\n`);
    return undefined;
  }
  context.stderr.write(`sluice: a gateway runs at ${gatewayUrl}; asking it\n`);
  return gatewayUrl;
}

/** One admin request with the master key; the body of a 2xx answer, else a CliError with the gateway's message. */
export async function askGateway(command: string, baseUrl: string, config: Config, path: string, init: { method?: string; json?: unknown } = {}): Promise<string> {
  if (!config.auth.master_key) throw new CliError(`${command}: asking a gateway needs its master key in SLUICE_MASTER_KEY`);
  const origin = baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
  const headers: Record<string, string> = { authorization: `Bearer ${config.auth.master_key}` };
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${origin}${path}`, { method: init.method ?? 'GET', headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) });
  } catch (error) {
    throw new CliError(`${command}: no gateway answered at ${origin} (${(error as Error).cause ?? (error as Error).message})`);
  }
  const body = await response.text();
  if (response.ok) return body;
  throw new CliError(`${command}: the gateway at ${origin} answered ${response.status}: ${errorMessageOf(body)}`);
}

function errorMessageOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') return parsed.error.message;
  } catch {
    // not JSON: the body itself, shortened, says what went wrong
  }
  return body.slice(0, 200);
}
