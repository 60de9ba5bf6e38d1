import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import { createDispatcher } from './application/dispatcher';
import type { MessageSecurity } from './application/message-security';
import type { PlatformConfig } from './config/config';
import type { Logger } from './logger';
import { startMeterLink, type MeterLink } from './meter-link/meter-link';
import { openDatabase, type Database } from './persistence/database';
import { Store } from './persistence/repositories/store';
import { DeliveryWorker } from './push/delivery-worker';
import { noPushKeys, type PushKeys } from './push/push-keys';
import { CodeSealer } from './security/code-sealer';
import { KeyedMessageSecurity } from './security/keyed-message-security';
import { resolvePlatformSecret } from './security/platform-secret';
import { assertStoredCodesOpen } from './security/tenant-keys';

/** A running platform: its database, its HTTP server and how to stop both. */
export interface Platform {
  database: Database;
  server: Server;
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  /** The device API and command delivery (issue 5). */
  meterLink: MeterLink;
  close(): Promise<void>;
}

export interface PlatformOptions {
  config: PlatformConfig;
  logger: Logger;
  /** Keep the embedded database in memory instead of `config.dataDir` (tests). */
  inMemory?: boolean;
  /** Replaces the keyed security of DECISIONS §3 (tests); no platform secret is needed then. */
  security?: MessageSecurity;
  /** Replaces the stored registration codes the CIS pushes are encrypted with (tests). */
  pushKeys?: PushKeys;
}

/** The composition root: every adapter is wired to the domain here and nowhere else. */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const { config, logger } = options;
  // Before the database opens: a missing or malformed secret stops the start at once (STYLE §8).
  const sealer = options.security ? undefined : new CodeSealer(resolvePlatformSecret(config, options.inMemory));
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    embeddedDataDir: options.inMemory ? undefined : config.dataDir,
  });

  const keyedSecurity = sealer && (await startKeyedSecurity(database, sealer, config, logger));
  const handler = createDispatcher({
    dataSource: database.dataSource,
    security: options.security ?? (keyedSecurity as MessageSecurity),
    logger,
  });
  const meterLink = await startMeterLink({
    dataSource: database.dataSource,
    logger,
    settings: config.link,
    bodyLimitBytes: config.bodyLimitBytes,
    exclusive: database.embedded,
  });
  const app = await createApp({
    handler,
    logger,
    bodyLimitBytes: config.bodyLimitBytes,
    publicUrl: config.publicUrl,
    restContentType: config.restContentType,
    servesTenant: async (code) => (await new Store(database.dataSource.manager).tenants.findActiveByCode(code)) !== undefined,
    extraRouters: [meterLink.router],
  });

  const server = await listen(app, config.port, config.host).catch(async (error) => {
    await meterLink.stop();
    keyedSecurity?.stop();
    await database.close();
    throw error;
  });
  const address = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;

  // Pushes are sealed with the tenant's current registration code (DECISIONS §5.7).
  const pushKeys = options.pushKeys ?? keyedSecurity ?? noPushKeys;
  const pushWorker = config.pushWorker
    ? new DeliveryWorker({ dataSource: database.dataSource, keys: pushKeys, logger, pollIntervalMs: config.pushPollIntervalMs })
    : undefined;
  await pushWorker?.start();

  return {
    database,
    server,
    url: `http://${host}:${address.port}`,
    meterLink,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await meterLink.stop();
      await pushWorker?.stop();
      keyedSecurity?.stop();
      await database.close();
    },
  };
}

/** DECISIONS §3 with the stored tenant keys, once every stored code is known to open. */
async function startKeyedSecurity(
  database: Database,
  sealer: CodeSealer,
  config: PlatformConfig,
  logger: Logger,
): Promise<KeyedMessageSecurity> {
  try {
    await assertStoredCodesOpen(database.dataSource.manager, sealer);
  } catch (error) {
    await database.close();
    throw error;
  }

  const security = new KeyedMessageSecurity({
    dataSource: database.dataSource,
    sealer,
    replayWindowHours: config.replayWindowHours,
    logger,
  });
  security.start();
  return security;
}

function listen(app: Awaited<ReturnType<typeof createApp>>, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}
