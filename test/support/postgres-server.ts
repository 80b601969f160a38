import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../adapters/sidecar/sidecar-process.js';

/**
 * A real PostgreSQL 16 with pgvector, from the binaries the PyPI package `pgserver` bundles
 * (pgserver==0.1.4: PostgreSQL 16.2, pgvector 0.6.2). Debian 12's own PostgreSQL 15 has no pgvector.
 * We run its initdb/postgres directly rather than through pgserver's Python, which as root creates
 * a system user; as root we drop to `nobody` with setpriv instead (initdb refuses to run as root).
 */
export interface PostgresServer {
  url: string;
  /** Fast shutdown: connections drop, the data stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and deletes the data. */
  destroy(): Promise<void>;
}

const NOBODY = 65_534;

/** The bundled bin directory, from SLUICE_PG_BIN or a venv that has pgserver installed; undefined if none. */
export function findPostgresBin(): string | undefined {
  const fromEnv = process.env.SLUICE_PG_BIN;
  if (fromEnv !== undefined) return existsSync(join(fromEnv, 'postgres')) ? fromEnv : undefined;
  for (const venv of ['python-sidecar/.venv', '/tmp/pgvenv']) {
    const lib = join(venv, 'lib');
    if (!existsSync(lib)) continue;
    for (const python of readdirSync(lib)) {
      const bin = join(lib, python, 'site-packages/pgserver/pginstall/bin');
      if (existsSync(join(bin, 'postgres'))) return bin;
    }
  }
  return undefined;
}

export async function startPostgresServer(bin = findPostgresBin()): Promise<PostgresServer> {
  if (bin === undefined) throw new Error('no PostgreSQL binaries: pip install pgserver==0.1.4 or set SLUICE_PG_BIN');
  const isRoot = process.getuid?.() === 0;
  const asServerUser = (command: string, args: string[]): [string, string[]] =>
    isRoot ? ['setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', command, ...args]] : [command, args];

  const directory = await mkdtemp(join(tmpdir(), 'sluice-pg-'));
  if (isRoot) {
    await chmod(directory, 0o755);
    await chown(directory, NOBODY, NOBODY);
  }
  const dataDir = join(directory, 'data');
  const [initCommand, initArgs] = asServerUser(join(bin, 'initdb'), [
    '-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync',
  ]);
  const init = spawnSync(initCommand, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);

  const port = await freePort();
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    const [command, args] = asServerUser(join(bin!, 'postgres'), [
      '-D', dataDir, '-h', '127.0.0.1', '-p', String(port), '-k', directory, '-c', 'fsync=off',
    ]);
    const server = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = server;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      server.stderr!.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('ready to accept connections')) resolve();
      });
      server.once('exit', (code) => reject(new Error(`postgres exited with ${code}: ${log}`)));
    });
  }

  async function stop(): Promise<void> {
    const server = child;
    child = undefined;
    if (server === undefined || server.exitCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGINT'); // fast shutdown
    await exited;
  }

  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    async destroy() {
      await stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

