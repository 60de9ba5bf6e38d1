import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Router } from 'express';
import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';
import type { LinkSettings } from './command-policy';
import { CommandQueue } from './command-queue';
import { createDeviceRouter } from './device-router';
import { MeterLinkService } from './link-service';

/**
 * The meter link of one platform process: the device API's router, and the sweep that keeps the
 * queue moving when no meter calls (expiries, exhausted attempts, orphaned sends).
 *
 * Each process registers itself in link_instance and refreshes a heartbeat at every sweep; the
 * commands it sends carry its id. At start-up it sweeps at once, so that the sends a killed
 * predecessor left in flight become due again without waiting for their deadline.
 */
export interface MeterLink {
  instanceId: string;
  router: Router;
  service: MeterLinkService;
  /** Runs one sweep now (tests, and the start-up sweep). */
  sweep(): Promise<void>;
  stop(): Promise<void>;
}

export interface MeterLinkOptions {
  dataSource: DataSource;
  logger: Logger;
  settings: LinkSettings;
  bodyLimitBytes: number;
  /** True on the embedded database, which serves one process: no other process can be alive. */
  exclusive: boolean;
}

export async function startMeterLink(options: MeterLinkOptions): Promise<MeterLink> {
  const { dataSource, settings } = options;
  const instanceId = randomUUID();
  const logger = options.logger.child({ component: 'meter-link' });
  await new CommandQueue(dataSource.manager, settings).registerInstance(instanceId, os.hostname(), process.pid);

  const service = new MeterLinkService({ dataSource, logger, settings, instanceId });
  let running: Promise<void> = Promise.resolve();
  const sweep = () => {
    running = running.then(() =>
      service.sweep(options.exclusive).catch((error: unknown) => logger.error({ err: error }, 'queue sweep failed')),
    );
    return running;
  };

  await sweep();
  const timer = setInterval(() => void sweep(), settings.sweepIntervalSeconds * 1000);
  timer.unref();
  logger.info({ instanceId, ...settings }, 'meter link started');

  return {
    instanceId,
    service,
    router: createDeviceRouter({ dataSource, service, logger, bodyLimitBytes: options.bodyLimitBytes }),
    sweep,
    async stop() {
      clearInterval(timer);
      await running;
      await new CommandQueue(dataSource.manager, settings)
        .stopInstance(instanceId)
        .catch((error: unknown) => logger.warn({ err: error }, 'could not record the meter link stop'));
    },
  };
}
