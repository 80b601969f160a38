/**
 * A real nginx (Debian's /usr/sbin/nginx) on a free loopback port, load-balancing the given
 * upstream ports, for the scale-out test and benchmark. Everything it writes — config, pid, error
 * log, temp files — lives in its own temp dir; it runs in the foreground (`daemon off`) as a child
 * of this process and is stopped by `stop()`. The proxy settings are deploy/sluice-proxy.conf's,
 * included as they ship, so the test runs what production runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../adapters/sidecar/sidecar-process.js';

export interface NginxServer {
  /** `http://127.0.0.1:PORT`, the balanced origin. */
  origin: string;
  port: number;
  /** nginx's error log so far: why an upstream was skipped, which one failed. */
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

export interface NginxOptions {
  /** Ports of the gateways on 127.0.0.1. */
  upstreamPorts: readonly number[];
  binary?: string;
}

const START_TIMEOUT_MS = 10_000;

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** deploy/sluice-proxy.conf: the proxy settings the shipped nginx.conf uses. */
export const PROXY_SETTINGS = fileURLToPath(new URL('../../deploy/sluice-proxy.conf', import.meta.url));

/**
 * deploy/nginx.conf with its paths moved into `directory`, its listen address on loopback and its
 * upstream the given ports; the proxy settings are included unchanged.
 */
export function nginxConfig(directory: string, port: number, upstreamPorts: readonly number[]): string {
  const servers = upstreamPorts.map((upstream) => `    server 127.0.0.1:${upstream} max_fails=1 fail_timeout=10s;`).join('\n');
  const inDirectory = (name: string) => path.join(directory, name);
  return `daemon off;
worker_processes 1;
pid ${inDirectory('nginx.pid')};
error_log ${inDirectory('error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${inDirectory('client_body')};
  proxy_temp_path ${inDirectory('proxy')};
  fastcgi_temp_path ${inDirectory('fastcgi')};
  uwsgi_temp_path ${inDirectory('uwsgi')};
  scgi_temp_path ${inDirectory('scgi')};
  upstream sluice {
${servers}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      include ${PROXY_SETTINGS};
    }
  }
}
`;
}

export async function startNginx(options: NginxOptions): Promise<NginxServer> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'sluice-nginx-'));
  const port = await freePort();
  const configPath = path.join(directory, 'nginx.conf');
  await writeFile(configPath, nginxConfig(directory, port, options.upstreamPorts));
  const errorLogPath = path.join(directory, 'error.log');
  // -e: the error log before the config is read, else nginx tries /var/log/nginx first.
  const child: ChildProcess = spawn(options.binary ?? '/usr/sbin/nginx', ['-p', directory, '-c', configPath, '-e', errorLogPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk.toString()));
  const errorLog = () => readFile(errorLogPath, 'utf8').catch(() => '');
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new Error(`${options.binary ?? '/usr/sbin/nginx'} is not installed (Debian package nginx): needed by the scale-out test`) : error),
    );
    child.once('exit', async (code) => reject(new Error(`nginx exited with ${code}: ${stderr.trim()} ${await errorLog()}`)));
  });
  exited.catch(() => undefined);
  const deadline = Date.now() + START_TIMEOUT_MS;
  try {
    while (!(await Promise.race([accepts(port), exited]))) {
      if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port} within ${START_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } catch (error) {
    child.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    errorLog,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM'); // fast shutdown: the test is over
        await gone;
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}
