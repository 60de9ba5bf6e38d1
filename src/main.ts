import { ConfigError, loadConfig } from './config/config';
import { DEMO_TENANT, ensureDemoTenant } from './demo';
import { createLogger } from './logger';
import { startPlatform } from './platform';
import { startDemoSimulator } from './simulator/demo-fleet';
import type { Simulator } from './simulator/simulator';

/** `npm start`: the platform, on the embedded database unless DATABASE_URL names a server. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const platform = await startPlatform({ config, logger });

  let simulator: Simulator | undefined;
  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping');
    await simulator?.stop();
    await platform.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));

  if (platform.database.embedded && config.createDemoTenant) {
    const instructions = await ensureDemoTenant(platform, { accounts: config.demoSimulator });
    if (instructions) process.stdout.write(`${instructions}\n`);
    // The demo's meters run inside the platform process (DEMO_SIMULATOR=off turns them off).
    if (config.demoSimulator) simulator = await startDemoSimulator(platform, DEMO_TENANT.code, config, logger);
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
