/**
 * With REDIS_URL, a key's rate limit is one window shared by every instance: two gateways
 * behind a load balancer let exactly the limit through between them, not twice it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/auth/key-store.js';
import { parseConfig } from '../../src/config/load.js';
import { buildGateway, type Gateway } from '../../src/gateway.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

const KEY = 'sk-rate-limited-team';
let redis: RedisServer;
const gateways: Gateway[] = [];
const origins: string[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  for (const name of ['a', 'b']) {
    const config = parseConfig({
      server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
      paths: { data_dir: mkdtempSync(join(tmpdir(), `sluice-rate-${name}-`)) },
      auth: { keys: [{ name: 'team', key_sha256: sha256Hex(KEY), rate_limit_rpm: 5 }] },
      storage: { redis_url: redis.url },
    });
    const gateway = buildGateway(config, pino({ level: 'silent' }));
    await gateway.ready;
    const server = await gateway.listen(0, '127.0.0.1');
    gateways.push(gateway);
    origins.push(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
  }
}, 60_000);

afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  await redis?.stop();
});

describe('rate limits shared through Redis', () => {
  it('two instances let the limit through between them, then answer 429 with retry-after', async () => {
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, index) => fetch(`${origins[index % 2]}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } })),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(5);
    const limited = responses.filter((response) => response.status === 429);
    expect(limited).toHaveLength(7);
    for (const response of limited) {
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await response.json()).error.code).toBe('rate_limit_exceeded');
    }
  });
});
