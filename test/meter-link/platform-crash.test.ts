import { Simulator } from '../../src/simulator/simulator';
import { startChildPlatform, type ChildPlatform } from '../support/child-platform';
import { runCli } from '../support/cli';
import {
  appliedOnce,
  expectedApplied,
  fleetDone,
  freePort,
  openFleet,
  processDatabase,
  tenantWithGateway,
  withClient,
  type ProcessDatabase,
} from '../support/link-processes';

/**
 * SIGKILL of the platform process in the middle of deliveries (issue 5): after a restart every
 * command reaches its meter, and none is applied twice. Runs on the embedded database (a data
 * folder) or on the PostgreSQL server of DATABASE_URL.
 */
const METERS = 40;
const RECHARGES = 3;
/** open_account, the opening recharge, then the recharges. */
const COMMANDS_PER_METER = 2 + RECHARGES;

describe('a platform killed in the middle of deliveries', () => {
  let database: ProcessDatabase;
  let platform: ChildPlatform | undefined;

  beforeAll(async () => {
    database = await processDatabase();
  });
  afterAll(async () => {
    await platform?.stop('SIGKILL');
    await database.cleanUp();
  });

  it('loses no command and applies none twice', async () => {
    const port = await freePort();
    const environment = {
      ...database.environment,
      PORT: String(port),
      LINK_ACK_TIMEOUT_SECONDS: '2',
      LINK_SWEEP_SECONDS: '1',
    };
    platform = await startChildPlatform(environment);
    const token = await tenantWithGateway(environment, 'crash', '断电燃气公司');
    await openFleet([platform.url], '断电燃气公司', METERS, RECHARGES);

    const simulator = new Simulator({ url: platform.url, token, intervalMs: 1000, consumption: () => '0', batchSize: 5, timeoutMs: 5000 });
    await simulator.refreshMeters();
    const total = METERS * COMMANDS_PER_METER;
    const applied = () => [...simulator.meters.values()].reduce((sum, meter) => sum + meter.applied.size, 0);

    // Wake the fleet over and over. While a wake-up is under way (uplinks, acknowledgements and
    // next commands going back and forth), kill the platform once a third of the commands are in.
    let killed = false;
    let restarted = false;
    const deadline = Date.now() + 120_000;
    while (!fleetDone(simulator, COMMANDS_PER_METER) && Date.now() < deadline) {
      let woken = false;
      const wake = simulator.wakeUp().finally(() => (woken = true));
      while (!woken && !killed) {
        if (applied() >= total / 3) {
          killed = true;
          await platform.stop('SIGKILL');
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      await wake;
      if (killed && !restarted) {
        restarted = true;
        platform = await startChildPlatform(environment);
      }
    }

    expect(killed).toBe(true);
    expect(appliedOnce(simulator)).toEqual(simulator.meterNosInOrder().map((meterNo) => expectedApplied(meterNo, COMMANDS_PER_METER)));
    for (const meter of simulator.meters.values()) expect(meter.balance.toFixed(4)).toBe('14.5000');

    // The platform agrees: every command succeeded.
    const unfinished = await runCli(['command', 'list', '--tenant', 'crash', '--state', 'queued,sent,failed,expired,cancelled'], environment);
    expect(unfinished.stdout).not.toMatch(/open_account|recharge/);
    if (database.url) {
      const states = await withClient(database.url, (client) =>
        client.query(`SELECT state, count(*)::int AS n FROM meter_command GROUP BY state`),
      );
      expect(states.rows).toEqual([{ state: 'succeeded', n: total }]);
    }
  }, 300_000);
});
