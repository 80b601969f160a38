import { isEntryScript } from './cli/entry-script.js';
import { pino } from 'pino';
import { buildGateway } from './gateway.js';
import { openStore } from './store/open-store.js';
import type { TextLogMode } from './store/inference-log.js';
import { ConfigError, loadConfig } from './config/load.js';

/**
 * Start-up: load and validate the config once, build, listen, and drain on SIGTERM/SIGINT.
 * `node dist/src/main.js` and `sluice serve` both come here.
 */
export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const line of error.lines) process.stderr.write(`sluice: config error: ${line}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = pino({
    level: config.server.log_level,
    redact: { paths: ['*.authorization', '*.apiKey', '*.api_key', '*.key', 'headers'], censor: '[redacted]' },
  });
  const useSupabase = Boolean(config.storage.supabase_url && config.storage.supabase_service_role_key && !config.storage.database_url);
  const store = await openStore({
    dataDir: config.paths.data_dir,
    databaseUrl: config.storage.database_url,
    ...(useSupabase ? { supabaseUrl: config.storage.supabase_url, supabaseKey: config.storage.supabase_service_role_key } : {}),
    inferenceLog: { textMode: textModeOf(config.storage.log_text, config.storage.log_text_max_chars) },
  });
  logger.info({ backend: useSupabase ? 'supabase' : store.database?.backend }, 'inference log open');
  const gateway = buildGateway(config, logger, undefined, { inferenceLog: store.inferenceLog, store, embeddings: store.embeddings });
  const server = await gateway.listen();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  logger.info({ port, host: config.server.host, backends: [...gateway.adapters.keys()] }, `sluice listening on http://${config.server.host}:${port}`);
  gateway.ready.then(() => logger.info('ready'));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    await gateway.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));
}

function textModeOf(mode: 'full' | 'truncated' | 'hashed' | 'off', maxChars: number): TextLogMode {
  return mode === 'truncated' ? { kind: 'truncated', maxChars } : { kind: mode };
}


if (isEntryScript(import.meta.url)) {
  serve().catch((error) => {
    process.stderr.write(`sluice: failed to start: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  });
}
