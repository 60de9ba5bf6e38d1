import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';
import { PushOutboxRepository } from '../persistence/repositories/push-outbox-repository';
import { PushSettingsRepository, type PushTarget } from '../persistence/repositories/push-settings-repository';
import { OutcomeWriter } from './outcome-writer';
import { cachedPushKeys, type PushKeys } from './push-keys';
import { TenantLane } from './tenant-lane';

/**
 * The delivery worker of the push outbox (spec §6, DECISIONS §5.7, issue 6): sends every pending
 * push to its tenant's CIS until the CIS answers ReturnCode 0, or the push outlives its tenant's
 * maximum age and becomes a dead letter (`cnmcsp push dead`, `cnmcsp push resend`).
 *
 * - One lane per tenant with push settings (push/tenant-lane.ts): per-tenant in-flight limit,
 *   sockets, claim query and circuit, so that tenants never wait for each other.
 * - Every poll tick one query finds which lanes with room have pushes due; those lanes claim. A
 *   lane whose last claim was full keeps claiming as its attempts finish, without waiting a tick.
 * - Claims are leases (PushOutboxRepository.claim), so any number of platform processes can run a
 *   worker on one database, and a killed process's pushes go out again when their lease ends.
 * - Settings saved by the CLI are picked up at the next tick; changes to the tenant itself (its
 *   name, plaintext flag, status) within `settingsRefreshMs`.
 *
 * TODO: delivered pushes are kept forever. A purge of old delivered rows is not written yet; it
 * would be safe for requestSerialNo, which comes from a sequence, not from the rows.
 */
export interface DeliveryWorkerOptions {
  dataSource: DataSource;
  keys: PushKeys;
  logger: Logger;
  /** How often idle lanes look for due pushes; also the latency of a fresh push. */
  pollIntervalMs?: number;
  settingsRefreshMs?: number;
  /** How often pushes past their maximum age that no attempt will reach are dead-lettered. */
  expirySweepMs?: number;
  /** How long `stop` lets attempts in flight finish before aborting them. */
  stopGraceMs?: number;
}

/** Each lane logs what it did once per this interval (tenant-lane.ts, logSummary). */
const SUMMARY_INTERVAL_MS = 10_000;

/** How long a tenant's push keys are reused before they are read again (push-keys.ts). */
const KEYS_TTL_MS = 5_000;

export class DeliveryWorker {
  private readonly lanes = new Map<number, TenantLane>();
  private readonly writer: OutcomeWriter;
  private readonly keys: PushKeys;
  private readonly logger: Logger;
  private readonly pollIntervalMs: number;
  private readonly settingsRefreshMs: number;
  private readonly expirySweepMs: number;
  private timer?: NodeJS.Timeout;
  private tickRunning?: Promise<void>;
  private running = false;
  private settingsLoadedAt = 0;
  private settingsVersion = '';
  private sweptAt = 0;
  private summarizedAt = 0;

  constructor(private readonly options: DeliveryWorkerOptions) {
    this.logger = options.logger.child({ component: 'push' });
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.settingsRefreshMs = options.settingsRefreshMs ?? 5_000;
    this.expirySweepMs = options.expirySweepMs ?? 30_000;
    this.keys = cachedPushKeys(options.keys, KEYS_TTL_MS);
    this.writer = new OutcomeWriter(options.dataSource, this.logger, {
      onDead: (ids) => this.logger.warn({ ids }, 'pushes past their maximum age are now dead letters'),
    });
  }

  /** Never throws: a database that does not answer yet is retried at every tick. */
  async start(): Promise<void> {
    this.running = true;
    this.sweptAt = Date.now();
    try {
      await this.refreshLanes();
    } catch (error) {
      this.logger.error({ err: error }, 'push settings could not be read; retrying');
    }
    this.logger.info({ tenants: this.lanes.size }, 'push worker started');
    this.scheduleTick(0);
  }

  /** Stops claiming, finishes or gives back what is in flight, and writes every outcome. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.tickRunning;

    const grace = this.options.stopGraceMs ?? 2_000;
    const aborted = (await Promise.all([...this.lanes.values()].map((lane) => lane.stop(grace)))).flat();
    await this.writer.drain();
    try {
      await new PushOutboxRepository(this.options.dataSource.manager).release(aborted);
    } catch (error) {
      // Their lease gives them back anyway, only later.
      this.logger.warn({ err: error, count: aborted.length }, 'could not give back aborted pushes');
    }
    for (const lane of this.lanes.values()) lane.logSummary();
    this.lanes.clear();
    this.logger.info({ abortedAttempts: aborted.length }, 'push worker stopped');
  }

  private scheduleTick(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.tickRunning = this.tick().finally(() => {
        this.tickRunning = undefined;
        this.scheduleTick(this.pollIntervalMs);
      });
    }, delayMs);
  }

  private async tick(): Promise<void> {
    try {
      const now = Date.now();
      if (now - this.sweptAt >= this.expirySweepMs) await this.sweepExpired();
      if (now - this.summarizedAt >= SUMMARY_INTERVAL_MS) this.logSummaries(now);

      const ready = [...this.lanes.values()].filter((lane) => lane.hasRoom());
      const repository = new PushOutboxRepository(this.options.dataSource.manager);
      const { dueTenantIds, settingsVersion } = await repository.poll(ready.map((lane) => lane.tenantId));
      if (settingsVersion !== this.settingsVersion || now - this.settingsLoadedAt >= this.settingsRefreshMs) {
        this.settingsVersion = settingsVersion;
        await this.refreshLanes();
      }
      for (const tenantId of dueTenantIds) void this.lanes.get(tenantId)?.pump();
    } catch (error) {
      if (this.options.dataSource.isInitialized) this.logger.error({ err: error }, 'push worker tick failed');
    }
  }

  private logSummaries(now: number): void {
    this.summarizedAt = now;
    for (const lane of this.lanes.values()) lane.logSummary();
  }

  private async refreshLanes(): Promise<void> {
    const targets = await new PushSettingsRepository(this.options.dataSource.manager).listTargets();
    this.settingsLoadedAt = Date.now();
    const seen = new Set<number>();

    for (const target of targets) {
      seen.add(target.tenantId);
      const lane = this.lanes.get(target.tenantId);
      if (lane) lane.update(target);
      else this.lanes.set(target.tenantId, this.createLane(target));
    }
    for (const [tenantId, lane] of this.lanes) {
      if (seen.has(tenantId)) continue;
      // Settings removed or tenant disabled: what is in flight finishes, nothing more is claimed,
      // and what was lined up goes back to the queue.
      this.lanes.delete(tenantId);
      void lane.stop(Number.POSITIVE_INFINITY).then((released) => this.writer.recordReleased(released));
    }
  }

  private createLane(target: PushTarget): TenantLane {
    return new TenantLane(target, {
      dataSource: this.options.dataSource,
      keys: this.keys,
      writer: this.writer,
      logger: this.logger,
    });
  }

  private async sweepExpired(): Promise<void> {
    this.sweptAt = Date.now();
    const expired = await new PushOutboxRepository(this.options.dataSource.manager).expireOverdue();
    if (expired > 0) this.logger.warn({ count: expired }, 'pushes past their maximum age are now dead letters');
  }
}
