// Child-process entry for the overhead benchmark: Sluice as built (`dist/`) in the shipped
// config's proxy path — a virtual key, the monthly budget cap, the inference log on PGlite (its
// own thread), pino at info and metrics on, the cache off — in front of the upstream given on the
// command line. `cache` turns the response cache on (exact hits answer).
// Arguments: the upstream URL, the virtual key to accept, `cache`. Reports its URL over IPC.
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../dist/src/config/load.js';
import { buildGateway } from '../../dist/src/gateway.js';
import { openStore } from '../../dist/src/store/open-store.js';


const [upstreamUrl, benchKey, mode] = process.argv.slice(2);
const withCache = mode === 'cache';
const dataDir = mkdtempSync(join(os.tmpdir(), 'sluice-bench-'));
const config = parseConfig({
  server: { host: '127.0.0.1', port: 0, log_level: 'info' },
  paths: { data_dir: dataDir },
  auth: { keys: [{ name: 'bench', key_sha256: createHash('sha256').update(benchKey).digest('hex'), monthly_budget_usd: 1_000_000 }] },
  backends: {
    openai: { type: 'openai', base_url: upstreamUrl, api_key: 'sk-upstream-bench' },
    ...(withCache && { 'local-embeddings': { type: 'onnx', requires_key: false, options: { model_dir: 'embeddings/all-MiniLM-L6-v2' } } }),
  },
  models: [
    { id: 'gpt-4o', backend: 'openai', capabilities: ['chat', 'stream'], price: { input_per_1m: 2.5, output_per_1m: 10 } },
    ...(withCache ? [{ id: 'all-minilm-l6-v2', backend: 'local-embeddings', capabilities: ['embed'] }] : []),
  ],
  budget: { monthly_usd: 1_000_000 },
  cache: { enabled: withCache },
});
// pino at info writes a line per request to stdout, which the benchmark sends to /dev/null.
const logger = pino({ level: 'info', redact: { paths: ['*.authorization', '*.apiKey', '*.api_key', '*.key', 'headers'], censor: '[redacted]' } });
const store = await openStore({ dataDir, inferenceLog: { textMode: { kind: 'full' } } });
const gateway = buildGateway(config, logger, undefined, { inferenceLog: store.inferenceLog, store, embeddings: store.embeddings });
await gateway.ready;
const server = await gateway.listen(0, '127.0.0.1');
process.send({ url: `http://127.0.0.1:${server.address().port}/v1` });
// --cpu-prof writes its profile only on a normal exit.
process.on('SIGINT', () => void gateway.close().then(() => store.close()).then(() => process.exit(0)));
