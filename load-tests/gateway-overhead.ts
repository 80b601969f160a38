/**
 * Gateway overhead: the same chat request sent straight to a loopback OpenAI-protocol server
 * and sent through Sluice to that server, measured in one run on one machine. Prints the
 * figures and the ratios (Sluice ÷ direct). Loopback only, bounded in time.
 */
import os from 'node:os';
import autocannon from 'autocannon';
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = 16;

async function measure(url: string, body: object, headers: Record<string, string>) {
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: DURATION_SECONDS,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

function spawnServer(script: string, args: string[], execArgv: string[]): Promise<{ child: ChildProcess; url: string; apiKey?: string }> {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), args, { execArgv });
  return new Promise((resolve, reject) => {
    child.once('message', (message: { url: string; apiKey?: string }) => resolve({ child, ...message }));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

/** One connection, one request at a time: what Sluice adds to a single call's latency. */
async function sequentialLatencyMs(url: string, body: object, headers: Record<string, string>, count = 400) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const payload = JSON.stringify(body);
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const request = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } }, (response) => {
        response.resume();
        response.on('end', resolve);
      });
      request.on('error', reject);
      request.end(payload);
    });
  for (let warm = 0; warm < 50; warm++) await once();
  const samples: number[] = [];
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    await once();
    samples.push(performance.now() - started);
  }
  agent.destroy();
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(count * 0.5)], p99: samples[Math.floor(count * 0.99)] };
}

async function main() {
  const upstream = await spawnServer('./bench-servers.ts', [], ['--import', 'tsx']);
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const gateway = await spawnServer('./bench-gateway.mjs', [upstream.url, upstream.apiKey!], profile);
  const sluiceUrl = `${gateway.url}/chat/completions`;
  const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'benchmark me with a short question' }] };
  const streamBody = { ...body, stream: true, stream_options: { include_usage: true } };
  const auth = { authorization: `Bearer ${upstream.apiKey}` };

  const rows: string[] = [];
  for (const [name, payload] of [['chat JSON', body], ['chat SSE', streamBody]] as const) {
    const directLatency = await sequentialLatencyMs(`${upstream.url}/chat/completions`, payload, auth);
    const sluiceLatency = await sequentialLatencyMs(sluiceUrl, payload, {});
    const direct = await measure(`${upstream.url}/chat/completions`, payload, auth);
    const through = await measure(sluiceUrl, payload, {});
    rows.push(
      `| ${name} | ${directLatency.p50.toFixed(2)} / ${directLatency.p99.toFixed(2)} | ${sluiceLatency.p50.toFixed(2)} / ${sluiceLatency.p99.toFixed(2)} | ${(sluiceLatency.p50 - directLatency.p50).toFixed(2)} | ${direct.rps.toFixed(0)} | ${through.rps.toFixed(0)} | ${(through.rps / direct.rps).toFixed(2)}× |`,
    );
  }
  gateway.child.kill('SIGINT');
  upstream.child.kill();

  console.log(`gateway overhead — ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, Node ${process.version}; upstream, gateway and load generator in separate processes on loopback`);
  console.log(`| request | direct p50 / p99 ms (1 conn) | via Sluice p50 / p99 ms (1 conn) | added p50 ms | direct req/s (${CONNECTIONS} conns) | via Sluice req/s | ratio |`);
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
