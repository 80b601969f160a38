/** wrk (Debian's package) as the load generator: a C client, so the generator's own cost is small. */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WrkResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

function script(body: object, headers: Record<string, string>): string {
  const directory = mkdtempSync(join(os.tmpdir(), 'sluice-wrk-'));
  const file = join(directory, 'post.lua');
  const lines = ['wrk.method = "POST"', `wrk.body = ${JSON.stringify(JSON.stringify(body))}`, 'wrk.headers["content-type"] = "application/json"'];
  for (const [name, value] of Object.entries(headers)) lines.push(`wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function milliseconds(text: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text.trim());
  if (!match) throw new Error(`wrk: unreadable latency "${text}"`);
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

/** Closed loop: `connections` clients, each sending the next request as soon as its answer ends. */
export async function wrk(url: string, body: object, headers: Record<string, string>, connections: number, seconds: number): Promise<WrkResult> {
  const threads = connections >= 32 ? 2 : 1;
  const { stdout } = await run('wrk', [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', '--timeout', '10s', '-s', script(body, headers), url], { maxBuffer: 1 << 20 });
  const failed = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  const socketErrors = /Socket errors: (.*)/.exec(stdout);
  if (failed) throw new Error(`wrk ${url}: ${failed[1]} non-2xx answers\n${stdout}`);
  if (socketErrors && /timeout [1-9]/.test(socketErrors[1]!)) throw new Error(`wrk ${url}: ${socketErrors[1]}`);
  const percentile = (p: string) => milliseconds(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(stdout)![1]!);
  return {
    requests: Number(/(\d+) requests in/.exec(stdout)![1]),
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)![1]),
    p50Ms: percentile('50'),
    p99Ms: percentile('99'),
  };
}
