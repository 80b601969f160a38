import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface SidecarProcessOptions {
  python: string;
  cwd: string;
  args: (port: number) => string[];
  startupTimeoutMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  log: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

/** A free loopback port, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The sidecar as a child process: started on a free loopback port, watched, restarted with
 * exponential backoff when it dies, stopped on close. `url()` resolves when the current
 * process answers /health; while it is down, callers learn so at once (`isUp`) rather than
 * waiting, so a transcription can fall back to a vendor.
 */
export class SidecarProcess {
  private child: ChildProcess | undefined;
  private baseUrl: string | undefined;
  private up: Promise<string>;
  private resolveUp!: (url: string) => void;
  private rejectUp!: (error: Error) => void;
  private isClosing = false;
  private backoffMs: number;
  private restartTimer: NodeJS.Timeout | undefined;
  restarts = 0;
  isUp = false;

  constructor(private readonly options: SidecarProcessOptions) {
    this.backoffMs = options.minBackoffMs;
    this.up = this.freshReadiness();
    this.start();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The URL of a sidecar that answered /health; rejects if the first start never succeeds. */
  url(): Promise<string> {
    return this.up;
  }

  private freshReadiness(): Promise<string> {
    const promise = new Promise<string>((resolve, reject) => {
      this.resolveUp = resolve;
      this.rejectUp = reject;
    });
    promise.catch(() => {}); // observed by callers; an unobserved rejection must not crash the process
    return promise;
  }

  private async start(): Promise<void> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // The child inherits the gateway's environment; the sidecar itself forces HF_HUB_OFFLINE=1.
    const child = spawn(this.options.python, this.options.args(port), {
      cwd: this.options.cwd,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    this.child = child;
    this.options.log('info', 'sidecar starting', { pid: child.pid, port });
    child.once('error', (error) => this.options.log('error', 'sidecar failed to spawn', { error: error.message }));
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
    const started = Date.now();
    while (!this.isClosing && this.child === child && child.exitCode === null) {
      if (await this.answersHealth(url)) {
        this.baseUrl = url;
        this.isUp = true;
        this.options.log('info', 'sidecar ready', { pid: child.pid, port, startupMs: Date.now() - started });
        this.resolveUp(url);
        this.stableSince = Date.now();
        return;
      }
      if (Date.now() - started > this.options.startupTimeoutMs) {
        this.options.log('error', 'sidecar did not become healthy in time; restarting', { pid: child.pid });
        child.kill('SIGKILL');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  private stableSince = 0;

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.isUp = false;
    this.baseUrl = undefined;
    if (this.isClosing) return;
    // A process that ran a good while before dying earns a fresh, short backoff.
    if (this.stableSince && Date.now() - this.stableSince > 60_000) this.backoffMs = this.options.minBackoffMs;
    this.options.log('warn', 'sidecar exited; restarting', { code, signal, inMs: this.backoffMs, restarts: this.restarts });
    this.up = this.freshReadiness();
    this.restartTimer = setTimeout(() => {
      this.restarts += 1;
      void this.start();
    }, this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs);
  }

  private async answersHealth(url: string): Promise<boolean> {
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
      await response.body?.cancel();
      return response.ok;
    } catch {
      return false; // not listening yet
    }
  }

  async close(): Promise<void> {
    this.isClosing = true;
    clearTimeout(this.restartTimer);
    this.rejectUp(new Error('sidecar stopped'));
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const forced = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(forced);
  }
}
