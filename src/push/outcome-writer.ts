import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';
import { PushOutboxRepository, type FailedAttempt } from '../persistence/repositories/push-outbox-repository';

/**
 * Records the outcomes of attempts in batches: one UPDATE for every delivery reported since the
 * last flush, one for every failure, instead of a round trip per push. An outcome waits at most
 * FLUSH_DELAY_MS. If the process dies before a flush, the lease of those rows runs out and they
 * are sent again: a repeat on the wire the CIS deduplicates by requestSerialNo, never a loss.
 */
const FLUSH_DELAY_MS = 5;
const RETRY_AFTER_ERROR_MS = 1000;

export interface OutcomeListener {
  /** Called with the ids that became dead letters. */
  onDead?(ids: string[]): void;
}

export class OutcomeWriter {
  private delivered: string[] = [];
  private failed: FailedAttempt[] = [];
  private released: Array<{ id: string; attempt: number }> = [];
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly logger: Logger,
    private readonly listener: OutcomeListener = {},
  ) {}

  recordDelivered(id: string): void {
    this.delivered.push(id);
    this.schedule(FLUSH_DELAY_MS);
  }

  recordFailed(failure: FailedAttempt): void {
    this.failed.push(failure);
    this.schedule(FLUSH_DELAY_MS);
  }

  /** Claims given back unattempted: due again at once, their attempt not counted. */
  recordReleased(claims: Array<{ id: string; attempt: number }>): void {
    this.released.push(...claims.map(({ id, attempt }) => ({ id, attempt })));
    this.schedule(FLUSH_DELAY_MS);
  }

  /**
   * Writes everything reported so far. Gives up after `maxWaitMs` (the database is unreachable):
   * those rows are then sent again once their lease runs out.
   */
  async drain(maxWaitMs = 10_000): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const deadline = Date.now() + maxWaitMs;

    while (this.hasWork() && this.dataSource.isInitialized && Date.now() < deadline) {
      await this.runFlush();
    }
  }

  private hasWork(): boolean {
    return this.flushing !== undefined || this.hasOutcomes();
  }

  private hasOutcomes(): boolean {
    return this.delivered.length > 0 || this.failed.length > 0 || this.released.length > 0;
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.flushing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runFlush();
    }, delayMs);
  }

  private runFlush(): Promise<void> {
    this.flushing ??= this.flush().finally(() => {
      this.flushing = undefined;
      if (this.hasOutcomes()) this.schedule(0);
    });
    return this.flushing;
  }

  private async flush(): Promise<void> {
    const delivered = this.delivered;
    const failed = this.failed;
    const released = this.released;
    this.delivered = [];
    this.failed = [];
    this.released = [];

    try {
      const repository = new PushOutboxRepository(this.dataSource.manager);
      await repository.markDelivered(delivered);
      const dead = await repository.recordFailures(failed);
      await repository.release(released);
      if (dead.length > 0) this.listener.onDead?.(dead);
    } catch (error) {
      if (!this.dataSource.isInitialized) return;
      // Kept for the next flush: the outcome is known, only its record is late.
      this.logger.error({ err: error }, 'recording push outcomes failed; retrying');
      this.delivered.unshift(...delivered);
      this.failed.unshift(...failed);
      this.released.unshift(...released);
      await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_ERROR_MS));
    }
  }
}
