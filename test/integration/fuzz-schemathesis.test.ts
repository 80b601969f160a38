/**
 * schemathesis against a live gateway, from its own `GET /openapi.json`: generated requests
 * (valid and invalid) to every operation, a bounded number per operation so the run stays under
 * two minutes. Any 5xx, or any response that breaks the documented schema, fails the test with
 * schemathesis's report of the request that caused it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

const schemathesis = join(import.meta.dirname, '../../python-sidecar/.venv/bin/schemathesis');
const MAX_EXAMPLES = 30;

let sluice: TestGateway;

beforeAll(async () => {
  // The whole API, the store-backed routes (feedback, vector store) included: a real PGlite.
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'sluice-fuzz-')) });
  sluice = await startTestGateway(() => {}, { inferenceLog: store.inferenceLog, store, embeddings: store.embeddings });
}, 60_000);

afterAll(() => sluice?.close());

function runSchemathesis(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(schemathesis, args, { env: { ...process.env, NO_COLOR: '1', SCHEMATHESIS_TELEMETRY: 'false' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

it(`finds no 5xx and no response outside the schema in ${MAX_EXAMPLES} cases per operation`, async () => {
  const { code, output } = await runSchemathesis([
    'run',
    `${sluice.origin}/openapi.json`,
    '--checks',
    'not_a_server_error,response_schema_conformance',
    '--max-examples',
    String(MAX_EXAMPLES),
    '--seed',
    '20261203',
    '--generation-database',
    'none',
    '--workers',
    '2',
    '--request-timeout',
    '20',
    '--no-color',
    '--header',
    `Authorization: Bearer ${sluice.apiKey}`,
  ]);
  console.log(`[fuzz] schemathesis:\n${output.split('\n').slice(-40).join('\n')}`);
  expect(Number(/(\d+) generated/.exec(output)?.[1])).toBeGreaterThan(100);
  expect(code, output).toBe(0);
}, 180_000);
