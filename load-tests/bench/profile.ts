/**
 * A CPU profile of Sluice's proxy path under load: the mock and Sluice as in overhead.ts, wrk at
 * c=32 for BENCH_SECONDS, then Sluice exits normally so `--cpu-prof` writes its profile into
 * BENCH_PROFILE (default ./profiles). `sse` as the argument profiles streams instead of JSON.
 */
import { mkdirSync } from 'node:fs';
import { cpuSeconds, startServer, stopServer } from './processes.js';
import { wrk } from './wrk.js';

const directory = (process.env.BENCH_PROFILE ??= 'profiles');
mkdirSync(directory, { recursive: true });
const seconds = Number(process.env.BENCH_SECONDS ?? 6);
const key = 'sk-sluice-bench-0123456789abcdef';
const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'benchmark me with a short question' }], ...(process.argv[2] === 'sse' && { stream: true, stream_options: { include_usage: true } }) };

const mock = await startServer('mock', './mock-upstream.ts');
const sluice = await startServer('sluice', './sluice-shipped.mjs', [mock.url, key]);
const headers = { authorization: `Bearer ${key}` };
await wrk(`${sluice.url}/chat/completions`, body, headers, 8, 2);
const before = cpuSeconds(sluice.child.pid!);
const result = await wrk(`${sluice.url}/chat/completions`, body, headers, 32, seconds);
const cpu = cpuSeconds(sluice.child.pid!) - before;
console.log(`${result.rps.toFixed(0)} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${((cpu * 1e6) / result.requests).toFixed(0)} µs CPU per request; profile in ${directory}/`);
await stopServer(sluice);
await stopServer(mock);
