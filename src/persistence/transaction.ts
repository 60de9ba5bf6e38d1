import { backOff } from 'exponential-backoff';
import type { DataSource, EntityManager } from 'typeorm';
import { isTransientConflict } from './repositories/postgres-errors';

/** Attempts of one transaction that PostgreSQL aborted for a deadlock or a serialization failure. */
const ATTEMPTS = 4;

/**
 * Runs `work` in one READ COMMITTED transaction, and runs it again, whole, when PostgreSQL aborts
 * it as the victim of a deadlock (40P01) or a serialization failure (40001).
 *
 * Most statements lock meters in id order, but not all can: a gateway's uplink updates the meters
 * its reports change and then those whose valve command it claims, while a BatchChangePrice locks
 * a whole town in id order. When PostgreSQL breaks such a cycle it rolls one transaction back
 * completely, so nothing of it was stored and running it again is safe; the caller, a CIS or a
 * gateway, sees one answer instead of a platform fault. Any other error is not retried.
 */
export function runTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  return backOff(() => dataSource.transaction('READ COMMITTED', work), {
    numOfAttempts: ATTEMPTS,
    startingDelay: 20,
    timeMultiple: 4,
    maxDelay: 500,
    jitter: 'full',
    retry: (error: unknown) => isTransientConflict(error),
  });
}
