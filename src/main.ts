import { ConfigError, loadConfig } from './config/config';
import { ensureDemoTenant } from './demo';
import { createLogger } from './logger';
import { startPlatform } from './platform';

/** `npm start`: the platform, on the embedded database unless DATABASE_URL names a server. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const platform = await startPlatform({ config, logger });

  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping');
    await platform.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));

  if (platform.database.embedded && config.createDemoTenant) {
    const instructions = await ensureDemoTenant(platform);
    if (instructions) process.stdout.write(`${instructions}\n`);
  }

  // Logged last: once this line is out, the platform answers calls and stops cleanly on a signal.
  const where = platform.database.embedded ? `embedded PostgreSQL in ${config.dataDir}` : 'DATABASE_URL';
  logger.info({ url: platform.url, database: where }, 'platform started');
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`cnmcsp: cannot start: ${message}\n`);
  process.exit(1);
});
