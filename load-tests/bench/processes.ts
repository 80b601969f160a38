/** The benchmark's server processes: started as children, their CPU time and memory read from /proc. */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Server {
  name: string;
  url: string;
  child: ChildProcess;
}

/** Forks `script` (TypeScript through tsx) and waits for the URL it reports. */
export function startServer(name: string, script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Server> {
  const typescript = script.endsWith('.ts');
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), args, {
    execArgv: [...(typescript ? ['--import', 'tsx'] : []), ...(process.env.BENCH_PROFILE && name.startsWith('sluice') ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [])],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (message: { url: string }) => resolve({ name, url: message.url, child }));
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
}

/** User + system CPU seconds the process has used, all its threads together. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** Resident memory now and at its peak, MiB. */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

export async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGINT');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
  if (server.child.exitCode === null) server.child.kill('SIGKILL');
}
