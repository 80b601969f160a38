/**
 * No accepted log row is lost: 1,000 requests through the gateway while the real PostgreSQL is
 * stopped partway and started again, with the gateway itself restarted once in between (its spill
 * file carried over). Afterwards the table holds exactly one row per accepted request.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { buildGateway, type Gateway } from '../../src/gateway.js';
import { openStore, type SluiceStore } from '../../src/store/open-store.js';
import { openPostgresDatabase } from '../../src/store/postgres-store.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai.js';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server.js';

let postgres: PostgresServer;
let vendor: FakeOpenAI;
const dataDir = mkdtempSync(join(tmpdir(), 'sluice-durability-'));

async function startGateway(): Promise<{ gateway: Gateway; store: SluiceStore; url: string }> {
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
    paths: { data_dir: dataDir },
    backends: { openai: { type: 'openai', base_url: vendor.url, api_key: vendor.apiKey } },
    models: [{ id: 'gpt-4o-mini', backend: 'openai', capabilities: ['chat'], price: { input_per_1m: 0.15, output_per_1m: 0.6 } }],
    cache: { enabled: false }, // every request reaches the vendor, so each leaves an answered row
  });
  const store = await openStore({
    dataDir,
    databaseUrl: postgres.url,
    inferenceLog: { flushIntervalMs: 20, batchMaxRows: 50, retry: { attempts: 2, initialDelayMs: 20, maxDelayMs: 100 } },
  });
  const gateway = buildGateway(config, pino({ level: 'silent' }), undefined, { inferenceLog: store.inferenceLog, store });
  const server = await gateway.listen(0, '127.0.0.1');
  return { gateway, store, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/chat/completions` };
}

async function send(url: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 25) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(25, count - start) }, async () => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'log me' }] }),
        });
        await response.text();
        expect(response.status).toBe(200);
        return response.headers.get('x-sluice-request-id')!;
      }),
    );
    ids.push(...batch);
  }
  return ids;
}

beforeAll(async () => {
  postgres = await startPostgresServer();
  vendor = await startFakeOpenAI();
}, 120_000);

afterAll(async () => {
  await vendor?.close();
  await postgres?.destroy();
});

describe('inference log durability through the gateway', () => {
  it('1,000 requests, a database outage and a gateway restart: every row exactly once', async () => {
    let running = await startGateway();
    const accepted = await send(running.url, 300);

    await postgres.stop(); // the database dies mid-run
    accepted.push(...(await send(running.url, 300)));
    await running.gateway.close(); // a graceful restart while the database is still down: rows spill to disk
    expect(running.store.inferenceLog.pending.spilled).toBeGreaterThan(0);

    await postgres.start();
    running = await startGateway(); // replays the spill file left by the first instance
    accepted.push(...(await send(running.url, 400)));
    await running.gateway.close();

    expect(accepted).toHaveLength(1000);
    const database = await openPostgresDatabase({ connectionString: postgres.url });
    try {
      const total = await database.query<{ rows: string; distinct_ids: string }>(
        'select count(*) as rows, count(distinct request_id) as distinct_ids from model_inferences',
      );
      expect(Number(total.rows[0].rows)).toBe(1000);
      expect(Number(total.rows[0].distinct_ids)).toBe(1000);
      const ids = await database.query<{ request_id: string }>('select request_id from model_inferences');
      expect(new Set(ids.rows.map((row) => row.request_id))).toEqual(new Set(accepted));
    } finally {
      await database.close();
    }
  }, 240_000);
});
