/**
 * A real, throwaway redis-server on a free loopback port, for tests and benchmarks (STYLE §7: Redis
 * is never mocked). No persistence, its own temp dir, stopped by `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../adapters/sidecar/sidecar-process.js';

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;

/** One PING over a fresh socket: resolves true on +PONG, false when nothing listens yet. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let reply = '';
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.startsWith('+PONG'));
      }
    });
    socket.once('error', () => resolve(false));
  });
}

function exited(child: ChildProcess): Promise<never> {
  return new Promise((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new Error('redis-server is not installed (needed by the Redis tests): run `make setup`')
          : error,
      ),
    );
    child.once('exit', (code, signal) => reject(new Error(`redis-server exited early (code ${code}, signal ${signal})`)));
  });
}

async function waitUntilReady(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let hasGivenUp = false;
  const died = exited(child).catch((error: Error) => {
    throw new Error(`${error.message}${stderr() ? `: ${stderr().trim()}` : ''}`);
  });
  // Retry the connection until the server answers; a refused attempt returns within a millisecond,
  // the short pause only keeps the loop from spinning a core.
  const poll = (async () => {
    while (!hasGivenUp) {
      if (await answersPing(port)) return;
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${START_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  try {
    await Promise.race([poll, died]);
  } finally {
    // The race's loser settles later (the process exits at stop(); a dead process ends the poll).
    hasGivenUp = true;
    poll.catch(() => undefined);
    died.catch(() => undefined);
  }
}

export interface RedisServerOptions {
  /**
   * Keep the data here, in an append-only file written on every command, as a Redis holding a
   * budget ledger in production would: a server started again on the same directory has it all.
   * The directory is the caller's, left in place by `stop()`. Without it: no persistence at all.
   */
  persistDir?: string;
}

/** `port`: to start one again where a stopped one listened (an outage and its end). */
export async function startRedisServer(port?: number, options: RedisServerOptions = {}): Promise<RedisServer> {
  const directory = options.persistDir ?? (await mkdtemp(path.join(os.tmpdir(), 'sluice-redis-')));
  port ??= await freePort();
  const persistence = options.persistDir ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', directory, '--logfile', ''],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderrText = '';
  child.stderr?.on('data', (chunk) => (stderrText += chunk.toString()));
  try {
    await waitUntilReady(port, child, () => stderrText);
  } catch (error) {
    child.kill('SIGKILL');
    if (!options.persistDir) await rm(directory, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await gone;
      }
      if (!options.persistDir) await rm(directory, { recursive: true, force: true });
    },
  };
}
