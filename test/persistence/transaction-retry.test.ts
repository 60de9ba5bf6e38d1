import type { DataSource, EntityManager } from 'typeorm';
import { isPlatformError, PlatformError } from '../../src/domain/errors';
import { runTransaction } from '../../src/persistence/transaction';
import { describeOnServer, startTestPlatform, type TestPlatform } from '../support/test-platform';

/**
 * A transaction PostgreSQL picks as a deadlock victim runs again, whole (src/persistence/
 * transaction.ts); CIS operations and gateway calls go through it. The deadlock here is real:
 * two transactions lock two rows in opposite orders.
 *
 * Needs DATABASE_URL: the embedded database serves one connection, so its transactions take
 * turns and can never deadlock.
 */
describeOnServer(
  'transaction-retry.test.ts',
  'a deadlock needs two sessions at once, and the embedded database serves one connection',
  'a transaction chosen as a deadlock victim',
  () => {
    let platform: TestPlatform;
    let dataSource: DataSource;

    beforeAll(async () => {
      platform = await startTestPlatform();
      dataSource = platform.database.dataSource;
      await dataSource.query(`CREATE TABLE deadlock_probe (id int PRIMARY KEY, touched int NOT NULL DEFAULT 0)`);
      await dataSource.query(`INSERT INTO deadlock_probe (id) VALUES (1), (2)`);
    });
    afterAll(() => platform?.close());

    /** Two transactions, each locking one row, waiting until the other holds its row, then taking it. */
    function crossedPair(run: (work: (manager: EntityManager) => Promise<void>) => Promise<void>) {
      const attempts = [0, 0];
      let holding = 0;
      let bothHold: () => void = () => undefined;
      const bothHolding = new Promise<void>((resolve) => (bothHold = resolve));
      const side = (index: number, first: number, second: number) =>
        run(async (manager) => {
          attempts[index] += 1;
          await manager.query(`UPDATE deadlock_probe SET touched = touched + 1 WHERE id = $1`, [first]);
          if (attempts[index] === 1) {
            holding += 1;
            if (holding === 2) bothHold();
            await bothHolding;
          }
          await manager.query(`UPDATE deadlock_probe SET touched = touched + 1 WHERE id = $1`, [second]);
        });
      return { attempts, outcomes: Promise.allSettled([side(0, 1, 2), side(1, 2, 1)]) };
    }

    it('is a real deadlock: without the retry one of the two fails with 40P01', async () => {
      const { outcomes } = crossedPair((work) => dataSource.transaction('READ COMMITTED', work));
      const settled = await outcomes;
      const failed = settled.filter((outcome) => outcome.status === 'rejected') as PromiseRejectedResult[];
      expect(failed).toHaveLength(1);
      expect((failed[0]!.reason as { driverError?: { code?: string } }).driverError?.code).toBe('40P01');
    });

    it('runs again and commits, so both land and each landed once', async () => {
      const [before] = await dataSource.query(`SELECT sum(touched)::int AS total FROM deadlock_probe`);
      const { attempts, outcomes } = crossedPair((work) => runTransaction(dataSource, work));
      const settled = await outcomes;

      expect(settled.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled']);
      expect(attempts[0]! + attempts[1]!).toBe(3); // the victim ran twice, the other once
      const [after] = await dataSource.query(`SELECT sum(touched)::int AS total FROM deadlock_probe`);
      expect(after.total - before.total).toBe(4); // two updates per transaction, nothing of the rolled-back run
    });

    it('does not run again after any other error', async () => {
      let attempts = 0;
      const failing = runTransaction(dataSource, async (manager) => {
        attempts += 1;
        await manager.query(`UPDATE deadlock_probe SET touched = touched + 1 WHERE id = 1`);
        throw new PlatformError(80002013);
      });
      await expect(failing).rejects.toBeInstanceOf(PlatformError);
      expect(attempts).toBe(1);
      expect(isPlatformError(await failing.catch((error: unknown) => error))).toBe(true);
    });
  },
);
