import { sha256Hex } from '../auth/key-store.js';
import { ConfigError } from '../config/load.js';
import { CliError, parseCommandArgs, UsageError, type CommandContext } from './command-context.js';
import { LIST_USAGE, runModelsList } from './models-list.js';
import { PULL_USAGE, runModelsPull } from './models-pull.js';
import { runModelsVerify, VERIFY_USAGE } from './models-verify.js';
import { OPTIMIZE_USAGE, runOptimize } from './optimize-command.js';
import { REPORT_USAGE, runReport } from './report-command.js';

export const USAGE = `usage: sluice <command> [options]

commands:
  serve                          start the gateway (same as node dist/src/main.js)
  models list [--json]           configured models, their local files, and unused files
  models pull <repo> [files...]  download from a Hugging Face-style hub into $SLUICE_MODELS_DIR
  models verify [--json]         re-hash pulled and fetched model files
  hash-key <key|->               sha256 of a virtual key, for auth.keys[].key_sha256
  report [--period] [--format]   savings and the targets for this day, week or month
  optimize [--dry-run|--apply|--rollback|--list]  re-fit thresholds and local_share to the labels

Run "sluice <command> --help" for a command's options.`;

const SERVE_USAGE = `usage: sluice serve [--config <file>] [--port <n>] [--host <address>]

Starts the gateway in the foreground; the options override SLUICE_CONFIG, PORT and HOST.`;

const HASH_KEY_USAGE = `usage: sluice hash-key <key>
       printf %s "$KEY" | sluice hash-key -

Prints the sha256 (hex) of a virtual key, for auth.keys[].key_sha256 in config/sluice.yaml.
With "-" the key is read from stdin, so that it stays out of the shell history.`;

type Command = { usage: string; run: (args: string[], context: CommandContext) => Promise<void> };

const COMMANDS: Record<string, Command> = {
  serve: { usage: SERVE_USAGE, run: runServe },
  'models list': { usage: LIST_USAGE, run: runModelsList },
  'models pull': { usage: PULL_USAGE, run: runModelsPull },
  'models verify': { usage: VERIFY_USAGE, run: runModelsVerify },
  'hash-key': { usage: HASH_KEY_USAGE, run: runHashKey },
  report: { usage: REPORT_USAGE, run: runReport },
  optimize: { usage: OPTIMIZE_USAGE, run: runOptimize },
};

/**
 * Runs one command line and returns the exit code: 0, 1 for a failure (one line on stderr),
 * 2 for a usage error. `serve` returns once the gateway listens; the server keeps the process up.
 */
export async function runCli(argv: string[], context: CommandContext): Promise<number> {
  const [first, second] = argv;
  const isHelp = (word: string | undefined) => word === '--help' || word === '-h' || word === 'help';
  if (first === undefined || isHelp(first) || (first === 'models' && isHelp(second))) {
    (first === undefined ? context.stderr : context.stdout).write(`${USAGE}\n`);
    return first === undefined ? 2 : 0;
  }
  const name = first === 'models' ? `models ${second ?? ''}`.trim() : first;
  const command = COMMANDS[name];
  if (!command) {
    const known = first === 'models' ? 'models list, models pull, models verify' : Object.keys(COMMANDS).join(', ');
    context.stderr.write(`sluice: unknown command "${name}" (known: ${known}; see: sluice --help)\n`);
    return 2;
  }
  const args = argv.slice(name.split(' ').length);
  if (args.includes('--help') || args.includes('-h')) {
    context.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    await command.run(args, context);
    return 0;
  } catch (error) {
    return reportFailure(error, name, context);
  }
}

function reportFailure(error: unknown, name: string, context: CommandContext): number {
  if (error instanceof UsageError) {
    context.stderr.write(`sluice: ${error.message} (see: sluice ${name} --help)\n`);
    return error.exitCode;
  }
  if (error instanceof CliError) {
    context.stderr.write(`sluice: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof ConfigError) {
    for (const line of error.lines) context.stderr.write(`sluice: config error: ${line}\n`);
    return 1;
  }
  const code = (error as NodeJS.ErrnoException).code;
  context.stderr.write(`sluice: ${(error as Error).message ?? String(error)}${code && !(error as Error).message?.includes(code) ? ` (${code})` : ''}\n`);
  return 1;
}

async function runHashKey(args: string[], context: CommandContext): Promise<void> {
  const { positionals } = parseCommandArgs(args, {});
  if (positionals.length !== 1) throw new UsageError('hash-key: give exactly one key (or "-" to read it from stdin)');
  const key = positionals[0] === '-' ? (await context.readStdin()).replace(/\r?\n$/, '') : positionals[0];
  if (key === '') throw new UsageError('hash-key: the key is empty');
  context.stdout.write(`${sha256Hex(key)}\n`);
}

async function runServe(args: string[], context: CommandContext): Promise<void> {
  const { values, positionals } = parseCommandArgs(args, {
    config: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`serve: unexpected argument "${positionals[0]}"`);
  const env = { ...context.env };
  if (values.config !== undefined) env.SLUICE_CONFIG = values.config;
  if (values.port !== undefined) env.PORT = values.port;
  if (values.host !== undefined) env.HOST = values.host;
  // Imported here, not at the top: the other commands need none of the gateway's modules.
  const { serve } = await import('../main.js');
  await serve(env);
}
