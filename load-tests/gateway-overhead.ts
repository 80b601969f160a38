/**
 * Gateway overhead: the same chat request sent straight to a loopback OpenAI-protocol server
 * and sent through Sluice to that server, measured in one run on one machine. Prints the
 * figures and the ratios (Sluice ÷ direct). Loopback only, bounded in time.
 */
import os from 'node:os';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { parseConfig } from '../src/config/load.js';
import { buildGateway } from '../src/gateway.js';
import { startFakeOpenAI } from '../test/fakes/fake-openai.js';

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

async function main() {
  const upstream = await startFakeOpenAI();
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
    paths: { data_dir: os.tmpdir() },
    backends: { openai: { type: 'openai', base_url: upstream.url, api_key: upstream.apiKey } },
    models: [{ id: 'gpt-4o', backend: 'openai', capabilities: ['chat', 'stream'], price: { input_per_1m: 2.5, output_per_1m: 10 } }],
  });
  const gateway = buildGateway(config, pino({ level: 'silent' }));
  const server = await gateway.listen(0, '127.0.0.1');
  const sluiceUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/chat/completions`;
  const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'benchmark me with a short question' }] };
  const streamBody = { ...body, stream: true, stream_options: { include_usage: true } };

  const rows: [string, Awaited<ReturnType<typeof measure>>, Awaited<ReturnType<typeof measure>>][] = [];
  for (const [name, payload] of [['chat JSON', body], ['chat SSE', streamBody]] as const) {
    const direct = await measure(`${upstream.url}/chat/completions`, payload, { authorization: `Bearer ${upstream.apiKey}` });
    const through = await measure(sluiceUrl, payload, {});
    rows.push([name, direct, through]);
  }
  await gateway.close();
  await upstream.close();

  console.log(`gateway overhead — ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, Node ${process.version}, ${CONNECTIONS} connections, ${DURATION_SECONDS}s each`);
  console.log('| request | direct req/s | via Sluice req/s | ratio | direct p50 / p99 ms | via Sluice p50 / p99 ms | added p50 ms |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const [name, direct, through] of rows) {
    console.log(
      `| ${name} | ${direct.rps.toFixed(0)} | ${through.rps.toFixed(0)} | ${(through.rps / direct.rps).toFixed(2)}× | ${direct.p50} / ${direct.p99} | ${through.p50} / ${through.p99} | ${(through.p50 - direct.p50).toFixed(1)} |`,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
