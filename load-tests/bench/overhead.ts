/**
 * Gateway overhead (`make bench`): the same chat requests sent (a) to a fast OpenAI-wire mock
 * directly, (b) through a bare node:http proxy — the floor —, (c) through Sluice in the shipped
 * config's proxy path and (d) through Sluice answering from its cache, in one run, interleaved
 * over rounds so that drift in the machine's speed falls on every target alike. wrk drives the
 * load; each figure is printed as a ratio against the mock measured in the same run.
 * BENCH_SECONDS (per run, default 5), BENCH_ROUNDS (default 2), BENCH_CHART (PNG path).
 */
import os from 'node:os';
import { drawChart } from './chart.js';
import { cpuSeconds, memoryMiB, startServer, stopServer, type Server } from './processes.js';
import { streamTiming, type StreamTiming } from './stream-timing.js';
import { wrk, type WrkResult } from './wrk.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CHART = process.env.BENCH_CHART ?? 'docs/bench-overhead.png';
const BENCH_KEY = 'sk-sluice-bench-0123456789abcdef';
const CONCURRENCY = [1, 32, 256] as const;
const KINDS = ['json', 'sse'] as const;
type Kind = (typeof KINDS)[number];

const chatBody = { model: 'gpt-4o', messages: [{ role: 'user', content: 'benchmark me with a short question' }] };
const bodies: Record<Kind, object> = { json: chatBody, sse: { ...chatBody, stream: true, stream_options: { include_usage: true } } };

interface Target {
  server: Server;
  headers: Record<string, string>;
}

interface Sample extends WrkResult {
  cpuMicrosPerRequest: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function measure(target: Target, kind: Kind, connections: number): Promise<Sample> {
  const pid = target.server.child.pid!;
  const before = cpuSeconds(pid);
  const result = await wrk(`${target.server.url}/chat/completions`, bodies[kind], target.headers, connections, SECONDS);
  return { ...result, cpuMicrosPerRequest: ((cpuSeconds(pid) - before) * 1e6) / result.requests };
}

async function main() {
  const mock = await startServer('mock', './mock-upstream.ts');
  const upstream = mock.url;
  const targets: Target[] = [
    { server: mock, headers: { authorization: 'Bearer sk-upstream-bench' } },
    { server: await startServer('bare node:http proxy', './bare-proxy.ts', [upstream]), headers: { authorization: 'Bearer sk-upstream-bench' } },
    { server: await startServer('sluice', './sluice-shipped.mjs', [upstream, BENCH_KEY]), headers: { authorization: `Bearer ${BENCH_KEY}` } },
    { server: await startServer('sluice, cache hits', './sluice-shipped.mjs', [upstream, BENCH_KEY, 'cache']), headers: { authorization: `Bearer ${BENCH_KEY}` } },
  ];
  const names = targets.map((target) => target.server.name);
  const samples = new Map<string, Sample[]>();
  const key = (name: string, kind: Kind, connections: number) => `${name}|${kind}|${connections}`;

  // Warm-up: JIT, keep-alive sockets, the cache's entries.
  for (const target of targets) for (const kind of KINDS) await wrk(`${target.server.url}/chat/completions`, bodies[kind], target.headers, 8, 2);
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of KINDS) {
      for (const connections of CONCURRENCY) {
        for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
          const sample = await measure(target, kind, connections);
          const list = samples.get(key(target.server.name, kind, connections)) ?? [];
          list.push(sample);
          samples.set(key(target.server.name, kind, connections), list);
        }
      }
    }
  }
  const timings = new Map<string, StreamTiming>();
  for (const target of targets) timings.set(target.server.name, await streamTiming(`${target.server.url}/chat/completions`, bodies.sse, target.headers, 400));
  const memory = new Map(targets.map((target) => [target.server.name, memoryMiB(target.server.child.pid!)]));
  for (const target of [...targets].reverse()) await stopServer(target.server);

  const figure = (name: string, kind: Kind, connections: number, pick: (sample: Sample) => number) => median(samples.get(key(name, kind, connections))!.map(pick));
  const mockName = names[0]!;
  console.log(`gateway overhead — ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, Node ${process.version}; wrk, the mock, each server in its own process on loopback; ${ROUNDS} interleaved rounds × ${SECONDS} s per figure (medians)`);
  console.log('\n| target | req/s c=32 vs mock (JSON) | req/s c=256 vs mock (JSON) | req/s c=32 vs mock (SSE) | added p99 c=1 (JSON) | added first `data:` p50 / p99 | CPU per request (c=32 JSON) | RSS after the run |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const mockTiming = timings.get(mockName)!;
  for (const name of names) {
    const ratio = (kind: Kind, connections: number) => figure(name, kind, connections, (sample) => sample.rps) / figure(mockName, kind, connections, (sample) => sample.rps);
    const addedP99 = figure(name, 'json', 1, (sample) => sample.p99Ms) - figure(mockName, 'json', 1, (sample) => sample.p99Ms);
    const timing = timings.get(name)!;
    const added = name === mockName ? '—' : `+${(timing.firstDataP50Ms - mockTiming.firstDataP50Ms).toFixed(2)} / +${(timing.firstDataP99Ms - mockTiming.firstDataP99Ms).toFixed(2)} ms`;
    console.log(
      `| ${name} | ${ratio('json', 32).toFixed(3)}× | ${ratio('json', 256).toFixed(3)}× | ${ratio('sse', 32).toFixed(3)}× | ${name === mockName ? '—' : `+${addedP99.toFixed(2)} ms`} | ${added} | ${figure(name, 'json', 32, (sample) => sample.cpuMicrosPerRequest).toFixed(0)} µs | ${memory.get(name)!.rss.toFixed(0)} MiB |`,
    );
  }
  console.log('\nEvery run (req/s, p50 / p99 ms):\n');
  console.log(`| request | c | ${names.join(' | ')} |`);
  console.log(`| --- | ---: | ${names.map(() => '---:').join(' | ')} |`);
  for (const kind of KINDS) {
    for (const connections of CONCURRENCY) {
      const cells = names.map((name) => `${figure(name, kind, connections, (sample) => sample.rps).toFixed(0)} (${figure(name, kind, connections, (sample) => sample.p50Ms).toFixed(2)} / ${figure(name, kind, connections, (sample) => sample.p99Ms).toFixed(2)})`);
      console.log(`| ${kind} | ${connections} | ${cells.join(' | ')} |`);
    }
  }
  console.log('\nStreams at c=1 (ms): first `data:` p50 / p99, gap between events p50 / p99:\n');
  for (const name of names) {
    const timing = timings.get(name)!;
    console.log(`- ${name}: ${timing.firstDataP50Ms.toFixed(2)} / ${timing.firstDataP99Ms.toFixed(2)}; ${timing.gapP50Ms.toFixed(3)} / ${timing.gapP99Ms.toFixed(3)}`);
  }
  const groups = (['json', 'sse'] as const).flatMap((kind) =>
    ([32, 256] as const).map((connections) => ({
      label: `${kind.toUpperCase()}, c=${connections}`,
      values: names.slice(1).map((name) => ({ series: name, value: figure(name, kind, connections, (sample) => sample.rps) / figure(mockName, kind, connections, (sample) => sample.rps) })),
    })),
  );
  if (await drawChart(CHART, 'Throughput as a share of the mock upstream alone (higher is better)', '× the mock alone', groups)) console.log(`\nchart: ${CHART}`);
  else console.log('\nchart: not drawn (no /usr/bin/chromium)');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
