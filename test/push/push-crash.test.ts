import type { CisReceiver } from '../../src/cis-receiver/cis-receiver';
import { findRunningEmbedded } from '../../src/persistence/database';
import { Simulator } from '../../src/simulator/simulator';
import { startChildPlatform, type ChildPlatform } from '../support/child-platform';
import { runCli } from '../support/cli';
import { freePort, openFleet, processDatabase, tenantWithGateway, withClient, type ProcessDatabase } from '../support/link-processes';
import { expectEveryReportPushedOnce, recordDeliveries, startReceiver, waitFor, type Query } from '../support/push';

/**
 * SIGKILL of the platform process while it pushes (issue 6, "done when"): simulated meters keep
 * reporting through the device API, the platform is killed in the middle of deliveries to a
 * receiver that answers slowly and fails a fifth of the pushes, and restarted. Afterwards every
 * stored report is at the receiver and each push was marked delivered exactly once. Runs on the
 * embedded database (a data folder) or on the PostgreSQL server of DATABASE_URL.
 */
describe('a platform killed while it pushes', () => {
  let database: ProcessDatabase;
  let platform: ChildPlatform | undefined;
  let receiver: CisReceiver;
  let simulator: Simulator | undefined;

  beforeAll(async () => {
    database = await processDatabase();
    receiver = await startReceiver({ delayMs: 20, failRate: 0.2 });
  });
  afterAll(async () => {
    await simulator?.stop();
    await platform?.stop('SIGKILL');
    await receiver?.close();
    await database?.cleanUp();
  });

  /** Queries the database of whichever platform process runs now (its socket, when embedded). */
  const query: Query = async (sql, parameters = []) => {
    const url = database.url ?? findRunningEmbedded(database.environment.DATA_DIR as string);
    if (!url) throw new Error('no platform process serves the embedded database');
    return withClient(url, async (client) => (await client.query(sql, parameters)).rows);
  };

  it('loses no report and marks each push delivered once', async () => {
    const environment = { ...database.environment, PORT: String(await freePort()), PUSH_POLL_INTERVAL_MS: '20' };
    platform = await startChildPlatform(environment);
    await recordDeliveries(query);
    const token = await tenantWithGateway(environment, 'kill', '断电推送燃气公司');
    await openFleet([platform.url], '断电推送燃气公司', 10, 0);
    const set = await runCli(
      ['push', 'set', 'kill', '--reading-url', receiver.restReadingUrl, '--alarm-url', receiver.restAlarmUrl,
        '--timeout', '1s', '--concurrency', '4', '--backoff-base', '50ms', '--backoff-max', '300ms'],
      environment,
    );
    expect(set.stderr).toBe('');
    const [tenant] = await query(`SELECT id, name FROM tenant WHERE code = 'kill'`);

    simulator = new Simulator({ url: platform.url, token, intervalMs: 100, timeoutMs: 2_000 });
    await simulator.refreshMeters();
    simulator.start();
    await waitFor('100 pushes received', () => receiver.statistics().accepted, (accepted) => accepted >= 100, 60_000);

    await platform.stop('SIGKILL');
    platform = await startChildPlatform(environment);
    const leftPending = (await query(`SELECT count(*)::int AS n FROM push_outbox WHERE state = 'pending'`))[0].n as number;
    const storedAtRestart = (await query(`SELECT count(*)::int AS n FROM meter_reading`))[0].n as number;
    await waitFor('more readings stored after the restart', async () =>
      (await query(`SELECT count(*)::int AS n FROM meter_reading`))[0].n as number, (n) => n >= storedAtRestart + 100, 60_000);
    await simulator.stop();

    await waitFor('every push delivered', () => query(`SELECT state, count(*)::int AS n FROM push_outbox GROUP BY state`),
      (states) => states.length === 1 && states[0].state === 'delivered', 90_000);
    expect(leftPending).toBeGreaterThan(0);
    const tally = await expectEveryReportPushedOnce(query, tenant, receiver);
    expect(tally.readings).toBeGreaterThan(100);
  }, 300_000);
});
