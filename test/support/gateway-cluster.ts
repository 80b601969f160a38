/**
 * N built gateways (`node dist/src/main.js`, as a container or a pod runs it), each a child process
 * with its own port and data dir, sharing what a real cluster shares: one Redis (REDIS_URL) and one
 * Postgres (DATABASE_URL). Configured through a config file and the environment only, like
 * production. The scale-out test and benchmark put nginx in front of them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../adapters/sidecar/sidecar-process.js';

export interface GatewayInstance {
  name: string;
  port: number;
  /** The current process's (a restart makes a new one). */
  readonly pid: number;
  origin: string;
  dataDir: string;
  /** The cluster's temp dir: the config file and every instance's data dir. */
  root: string;
  /** Whether the process is still running. */
  isAlive(): boolean;
  /** SIGKILL: no drain, no flush — a crashed pod. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM: the graceful drain (the log flushed), as Kubernetes stops a pod. */
  stop(): Promise<void>;
  /** Starts a stopped or killed instance again on its port and data dir, as a supervisor restarts a crashed container. */
  restart(): Promise<void>;
}

export interface ClusterOptions {
  /** The config file's content (JSON is YAML); the environment adds ports, URLs and secrets. */
  config: Record<string, unknown>;
  env: Record<string, string>;
  count: number;
  /** Where the built gateway is; `dist/src/main.js` from the repository root by default. */
  entry?: string;
  readyTimeoutMs?: number;
}

const MAIN = resolve('dist/src/main.js');

async function waitReady(origin: string, child: ChildProcess, stderr: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`gateway exited (${child.exitCode ?? child.signalCode}): ${stderr()}`);
    const status = await fetch(`${origin}/ready`).then((response) => response.status, () => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`gateway at ${origin} not ready within ${timeoutMs} ms (last status ${status}): ${stderr()}`);
    // A refused connection answers within a millisecond; the pause only keeps the loop off the CPU.
    await new Promise((done) => setTimeout(done, 50));
  }
}

function ended(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => child.once('exit', () => done()));
}

interface Spawned {
  child: ChildProcess;
  stderr: () => string;
}

/** Starts `count` instances at once (they migrate one database together) and waits for /ready on each. */
export async function startGatewayCluster(options: ClusterOptions): Promise<GatewayInstance[]> {
  const entry = options.entry ?? MAIN;
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run make setup (it builds dist/)`);
  const root = mkdtempSync(join(tmpdir(), 'sluice-cluster-'));
  const configPath = join(root, 'sluice.yaml');
  writeFileSync(configPath, JSON.stringify(options.config, null, 2));
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const spawnOn = (port: number, dataDir: string): Spawned => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...options.env,
      SLUICE_CONFIG: configPath,
      SLUICE_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
    };
    const child = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    return { child, stderr: () => stderr };
  };
  const ports = await Promise.all(Array.from({ length: options.count }, () => freePort()));
  const instances = ports.map((port, index): GatewayInstance & { current: Spawned } => {
    const dataDir = join(root, `gw${index + 1}`);
    const instance = {
      name: `gw${index + 1}`,
      port,
      origin: `http://127.0.0.1:${port}`,
      dataDir,
      root,
      current: spawnOn(port, dataDir),
      get pid() {
        return instance.current.child.pid!;
      },
      isAlive: () => instance.current.child.exitCode === null && instance.current.child.signalCode === null,
      async kill() {
        const gone = ended(instance.current.child);
        instance.current.child.kill('SIGKILL');
        await gone;
      },
      async stop() {
        const gone = ended(instance.current.child);
        instance.current.child.kill('SIGTERM');
        await gone;
      },
      async restart() {
        if (instance.isAlive()) throw new Error(`${instance.name} is still running`);
        instance.current = spawnOn(port, dataDir);
        await waitReady(instance.origin, instance.current.child, instance.current.stderr, readyTimeoutMs);
      },
    };
    return instance;
  });
  try {
    await Promise.all(instances.map((instance) => waitReady(instance.origin, instance.current.child, instance.current.stderr, readyTimeoutMs)));
  } catch (error) {
    await Promise.all(instances.map((instance) => instance.kill()));
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  return instances;
}

/** Stops every instance still running, gracefully, and removes their data dirs. */
export async function stopGatewayCluster(instances: readonly GatewayInstance[]): Promise<void> {
  await Promise.all(instances.map((instance) => instance.stop()));
  await Promise.all([...new Set(instances.map((instance) => instance.root))].map((root) => rm(root, { recursive: true, force: true })));
}
