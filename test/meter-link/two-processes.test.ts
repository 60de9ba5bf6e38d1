import { Simulator } from '../../src/simulator/simulator';
import { startChildPlatform, type ChildPlatform } from '../support/child-platform';
import { describeOnServer } from '../support/test-platform';
import {
  appliedOnce,
  expectedApplied,
  fleetDone,
  openFleet,
  processDatabase,
  tenantWithGateway,
  withClient,
  type ProcessDatabase,
} from '../support/link-processes';

/**
 * Two platform processes on one PostgreSQL database share the queue (issue 5): every meter wakes
 * up through both at the same moment, and still each command is sent once and applied once.
 *
 * Needs DATABASE_URL: the embedded database (PGlite) belongs to one process, so two platforms
 * cannot share it. CI runs the suite again on the local PostgreSQL server (.ci/run), where this
 * test runs.
 */
const METERS = 60;
const RECHARGES = 3;
const COMMANDS_PER_METER = 2 + RECHARGES;
describeOnServer(
  'two-processes.test.ts',
  'two platform processes need a shared database, and the embedded one serves a single process',
  'two platform processes on one database',
  () => {
    let database: ProcessDatabase;
    const platforms: ChildPlatform[] = [];

    beforeAll(async () => {
      database = await processDatabase();
    });
    afterAll(async () => {
      await Promise.all(platforms.map((platform) => platform.stop('SIGTERM')));
      await database.cleanUp();
    });

    it('deliver each command exactly once', async () => {
      const environment = { ...database.environment, LINK_SWEEP_SECONDS: '1' };
      platforms.push(await startChildPlatform(environment), await startChildPlatform(environment));
      const [first, second] = platforms as [ChildPlatform, ChildPlatform];
      const token = await tenantWithGateway(environment, 'pair', '双机燃气公司');
      await openFleet([first.url, second.url], '双机燃气公司', METERS, RECHARGES);

      // One fleet of meters, reachable through either process: each wake-up goes to both at once.
      const options = { token, intervalMs: 1000, consumption: () => '0', batchSize: 10 };
      const throughFirst = new Simulator({ ...options, url: first.url });
      const throughSecond = new Simulator({ ...options, url: second.url });
      await throughFirst.refreshMeters();
      for (const [meterNo, meter] of throughFirst.meters) throughSecond.meters.set(meterNo, meter);

      const deadline = Date.now() + 120_000;
      while (!fleetDone(throughFirst, COMMANDS_PER_METER) && Date.now() < deadline) {
        await Promise.all([throughFirst.wakeUp(), throughSecond.wakeUp()]);
      }

      expect(appliedOnce(throughFirst)).toEqual(
        throughFirst.meterNosInOrder().map((meterNo) => expectedApplied(meterNo, COMMANDS_PER_METER)),
      );
      const commands = await withClient(database.url as string, async (client) => {
        const result = await client.query(
          `SELECT c.state, c.attempts, count(e.id) FILTER (WHERE e.state = 'sent')::int AS sends
             FROM meter_command c JOIN meter_command_event e ON e.command_id = c.id
            GROUP BY c.id`,
        );
        return result.rows as Array<{ state: string; attempts: number; sends: number }>;
      });
      expect(commands).toHaveLength(METERS * COMMANDS_PER_METER);
      expect(commands.filter((c) => c.state !== 'succeeded' || c.attempts !== 1 || c.sends !== 1)).toEqual([]);

      const senders = await withClient(database.url as string, (client) =>
        client.query(`SELECT count(DISTINCT sent_by)::int AS n FROM meter_command`),
      );
      expect(senders.rows[0].n).toBe(2);
    }, 300_000);
  },
);
