/**
 * A Sluice instance in a child process of its own, for tests that need two real gateway
 * processes: `fork` it with `--import tsx`, send `{ config, dataDir }`, get `{ url }` back. It
 * answers `{ ask: 'rows' }` with the request ids in its inference log (after a flush) and exits on
 * `{ ask: 'close' }` after a graceful close.
 */
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { buildGateway } from '../../src/gateway.js';
import { openStore } from '../../src/store/open-store.js';

process.once('message', async ({ config, dataDir }: { config: unknown; dataDir: string }) => {
  const store = await openStore({ dataDir, inferenceLog: { flushIntervalMs: 50 } });
  const gateway = buildGateway(parseConfig(config), pino({ level: 'silent' }), undefined, { inferenceLog: store.inferenceLog, store });
  await gateway.ready;
  const server = await gateway.listen(0, '127.0.0.1');
  process.on('message', async (message: { ask: 'rows' | 'close' }) => {
    if (message.ask === 'rows') {
      await store.inferenceLog.flush();
      const result = await store.database!.query<{ request_id: string }>('select request_id from model_inferences');
      process.send!({ rows: result.rows.map((row) => row.request_id) });
    } else {
      await gateway.close();
      process.exit(0);
    }
  });
  process.send!({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}` });
});
