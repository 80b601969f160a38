import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/run-cli.js';
import { sha256Hex } from '../../../src/auth/key-store.js';

async function run(argv: string[], stdin = '') {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env: {},
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    readStdin: async () => stdin,
  });
  return { code, stdout, stderr };
}

describe('the sluice command line', () => {
  it('prints help on --help (exit 0), and on no command to stderr (exit 2)', async () => {
    const help = await run(['--help']);
    expect([help.code, help.stderr]).toEqual([0, '']);
    expect(help.stdout).toMatch(/^usage: sluice <command>/);
    expect(help.stdout).toContain('models pull <repo> [files...]');
    const bare = await run([]);
    expect([bare.code, bare.stdout]).toEqual([2, '']);
    expect(bare.stderr).toMatch(/^usage: sluice/);
  });

  it.each([
    [['models', 'pull', '--help'], /^usage: sluice models pull <repo>/],
    [['models', 'list', '-h'], /^usage: sluice models list/],
    [['models', 'verify', '--help'], /^usage: sluice models verify/],
    [['hash-key', '--help'], /^usage: sluice hash-key/],
    [['serve', '--help'], /^usage: sluice serve/],
    [['models', '--help'], /^usage: sluice <command>/],
  ])('%j prints that command’s usage', async (argv, usage) => {
    const result = await run(argv);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(usage);
  });

  it.each([
    [['nope'], 'sluice: unknown command "nope" (known: serve, models list, models pull, models verify, hash-key, report, optimize; see: sluice --help)\n'],
    [['models'], 'sluice: unknown command "models" (known: models list, models pull, models verify; see: sluice --help)\n'],
    [['models', 'push'], 'sluice: unknown command "models push" (known: models list, models pull, models verify; see: sluice --help)\n'],
    [['hash-key'], 'sluice: hash-key: give exactly one key (or "-" to read it from stdin) (see: sluice hash-key --help)\n'],
    [['hash-key', 'a', 'b'], 'sluice: hash-key: give exactly one key (or "-" to read it from stdin) (see: sluice hash-key --help)\n'],
    [['models', 'verify', 'extra'], 'sluice: models verify: unexpected argument "extra" (see: sluice models verify --help)\n'],
    [['models', 'list', '--jsn'], `sluice: Unknown option '--jsn'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- "--jsn" (see: sluice models list --help)\n`],
  ])('%j is a usage error: one line, exit 2', async (argv, message) => {
    expect(await run(argv)).toEqual({ code: 2, stdout: '', stderr: message });
  });

  it('hash-key prints the sha256 hex of the key, also read from stdin without its newline', async () => {
    expect(await run(['hash-key', 'sk-team-secret'])).toEqual({ code: 0, stdout: `${sha256Hex('sk-team-secret')}\n`, stderr: '' });
    expect((await run(['hash-key', '-'], 'sk-team-secret\n')).stdout).toBe(`${sha256Hex('sk-team-secret')}\n`);
    expect((await run(['hash-key', '-'], '')).code).toBe(2);
  });
});
