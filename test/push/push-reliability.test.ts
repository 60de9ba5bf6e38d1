import type { CisReceiver } from '../../src/cis-receiver/cis-receiver';
import type { Tenant } from '../../src/domain/model';
import { Simulator } from '../../src/simulator/simulator';
import { addGateway, openAccount } from '../support/meter-link';
import {
  expectEveryReportPushedOnce,
  FAST_POLLING,
  outboxRows,
  pushTo,
  queryOf,
  recordDeliveries,
  startPushPlatform,
  startReceiver,
  waitFor,
} from '../support/push';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';

/**
 * The "done when" with the simulator running: simulated meters report through the device
 * API while the reference receiver misbehaves, and afterwards every report is at the receiver and
 * every push was marked delivered exactly once.
 *
 * Retries back off from 50 ms to 400 ms instead of the defaults (1 s to 5 min), so that a test
 * ends soon after the CIS is healthy again; the outage itself lasts the full minute.
 */
const METERS = 12;

describe('pushes with the simulator running while the CIS misbehaves', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startPushPlatform();
  });
  afterAll(() => platform?.close());

  /** A tenant with METERS accounts opened by MeterAdd, pushing to `receiver`, and a simulator. */
  async function fleet(receiver: CisReceiver, tenantInput: Partial<Tenant> = {}) {
    const tenant = await platform.createTenant(tenantInput);
    const meterNos = Array.from({ length: METERS }, (_, index) => `${tenant.code}M${index + 1}`);
    for (const meterNo of meterNos) await openAccount(platform, tenant, meterNo, { preSaving: '12' });
    await pushTo(platform, tenant, receiver, { concurrency: 4 });

    const simulator = new Simulator({
      url: platform.url,
      token: await addGateway(platform, tenant),
      intervalMs: 100,
      batteryDrainPerWake: 15,
      timeoutMs: 5_000,
    });
    await simulator.refreshMeters();
    return { tenant, simulator, meterNos };
  }

  const storedReadings = async (tenant: Tenant) =>
    ((await platform.database.dataSource.query(
      `SELECT count(*)::int AS n FROM meter_reading WHERE tenant_id = $1`,
      [tenant.id],
    )) as Array<{ n: number }>)[0]!.n;

  const allDelivered = (tenant: Tenant) =>
    waitFor(
      'every push delivered',
      async () => {
        const rows = await outboxRows(platform, tenant.id);
        return { total: rows.length, undelivered: rows.filter((row) => row.state !== 'delivered') };
      },
      (outbox) => outbox.total > 0 && outbox.undelivered.length === 0,
      60_000,
    );

  it('loses nothing while the receiver fails half of the requests', async () => {
    const receiver = await startReceiver({ failRate: 0.5 });
    const { tenant, simulator } = await fleet(receiver);
    try {
      simulator.start();
      await waitFor('300 readings stored', () => storedReadings(tenant), (n) => n >= 300, 60_000);
      await simulator.stop();
      await allDelivered(tenant);

      const tally = await expectEveryReportPushedOnce(queryOf(platform), tenant, receiver);
      expect(tally.alarms).toBeGreaterThan(0);
      expect(receiver.statistics().failedOnPurpose).toBeGreaterThan(100);
      const retried = await outboxRows(platform, tenant.id);
      expect(retried.some((row) => row.attempts > 1)).toBe(true);
    } finally {
      await simulator.stop();
      await receiver.close();
    }
  }, 120_000);

  it('loses nothing while the receiver is down for a minute, and records 80002032 meanwhile', async () => {
    const receiver = await startReceiver();
    const { tenant, simulator } = await fleet(receiver);
    try {
      simulator.start();
      await waitFor('some readings stored', () => storedReadings(tenant), (n) => n >= 50, 30_000);
      await receiver.goDown();
      const acceptedBeforeOutage = receiver.statistics().accepted;
      const noAnswer = await waitFor('an attempt without answer recorded', () => outboxRows(platform, tenant.id), (rows) =>
        rows.some((row) => row.last_code === 80002032),
      );
      // A push in flight when the receiver goes down sees its connection reset; later ones are refused.
      expect(noAnswer.find((row) => row.last_code === 80002032)?.last_error).toMatch(
        /对方服务器无响应: connection (refused|reset before the answer)/,
      );
      const readingsWhileUp = await storedReadings(tenant);
      await new Promise((resolve) => setTimeout(resolve, 60_000));
      const downFor = await storedReadings(tenant);
      expect(downFor).toBeGreaterThan(readingsWhileUp); // the meters kept reporting meanwhile
      expect(receiver.statistics().accepted).toBe(acceptedBeforeOutage);
      await receiver.comeBack();
      await waitFor('more readings stored', () => storedReadings(tenant), (n) => n >= downFor + 100, 60_000);
      await simulator.stop();
      await allDelivered(tenant);

      await expectEveryReportPushedOnce(queryOf(platform), tenant, receiver);
    } finally {
      await simulator.stop();
      await receiver.close();
    }
  }, 240_000);

  it('loses nothing while the receiver stalls, marking each push delivered once despite repeats on the wire', async () => {
    const receiver = await startReceiver();
    const { tenant, simulator } = await fleet(receiver);
    try {
      simulator.start();
      await waitFor('some readings stored', () => storedReadings(tenant), (n) => n >= 50, 30_000);
      receiver.setStalled(true);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(receiver.statistics().peakInProgress).toBeLessThanOrEqual(4);
      // The held requests are stored and answered now, long after the platform gave up on them.
      receiver.setStalled(false);
      await waitFor('more readings stored', () => storedReadings(tenant), (n) => n >= 300, 60_000);
      await simulator.stop();
      await allDelivered(tenant);

      const tally = await expectEveryReportPushedOnce(queryOf(platform), tenant, receiver);
      expect(tally.repeatsOnTheWire).toBeGreaterThan(0);
    } finally {
      await simulator.stop();
      await receiver.close();
    }
  }, 120_000);
});
