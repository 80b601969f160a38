// Child-process entry for the benchmarks: Sluice as built (`dist/`, no TypeScript loader in the
// way), in front of the upstream given on the command line. Reports its URL over IPC.
import os from 'node:os';
import { pino } from 'pino';
import { parseConfig } from '../dist/src/config/load.js';
import { buildGateway } from '../dist/src/gateway.js';

// A third argument `cache` turns the response cache on (with the local embedding model, for
// paraphrases); without it the cache is off, so the overhead measured is the proxy path's.
const [upstreamUrl, upstreamKey, mode] = process.argv.slice(2);
const withCache = mode === 'cache';
const config = parseConfig({
  server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
  paths: { data_dir: os.tmpdir() },
  backends: {
    openai: { type: 'openai', base_url: upstreamUrl, api_key: upstreamKey },
    ...(withCache && { 'local-embeddings': { type: 'onnx', requires_key: false, options: { model_dir: 'embeddings/all-MiniLM-L6-v2' } } }),
  },
  models: [
    { id: 'gpt-4o', backend: 'openai', capabilities: ['chat', 'stream'], price: { input_per_1m: 2.5, output_per_1m: 10 } },
    ...(withCache ? [{ id: 'all-minilm-l6-v2', backend: 'local-embeddings', capabilities: ['embed'] }] : []),
  ],
  cache: { enabled: withCache },
});
const gateway = buildGateway(config, pino({ level: 'silent' }));
await gateway.ready;
const server = await gateway.listen(0, '127.0.0.1');
process.send({ url: `http://127.0.0.1:${server.address().port}/v1` });
// --cpu-prof writes its profile only on a normal exit.
process.on('SIGINT', () => process.exit(0));
