import { Simulator } from '../../src/simulator/simulator';
import { restCall } from '../support/cis-client';
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
 * System-side billing (系统端计费, spec §2, DECISIONS §5.6): the CIS bills, so the pushes are its
 * only feed of meter data, and it still controls the valves through the platform.
 */
describe('a system-side billing tenant', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startPushPlatform();
  });
  afterAll(() => platform?.close());

  it('gets its readings and alarms pushed, and its valve command still reaches the meter', async () => {
    const receiver = await startReceiver();
    const tenant = await platform.createTenant({ billingMode: 'system' });
    for (const meterNo of ['Y1', 'Y2', 'Y3']) await openAccount(platform, tenant, meterNo);
    await pushTo(platform, tenant, receiver);
    const simulator = new Simulator({
      url: platform.url,
      token: await addGateway(platform, tenant),
      intervalMs: 100,
      batteryDrainPerWake: 20,
      timeoutMs: 5_000,
    });
    try {
      await simulator.refreshMeters();
      simulator.start();
      await waitFor('readings and a low-battery alarm pushed', () => receiver.statistics().unique, () =>
        receiver.pushesOf('AlarmData').length > 0 && receiver.pushesOf('RealTimeData').length >= 30,
      );

      const close = await restCall(
        platform.url,
        '/rest/Standard/valve/controlValve',
        JSON.stringify({ UserID: 'UY2', MeterID: 'Y2', Control: 2010, DataFrom: tenant.name }),
      );
      expect(close.json.ReturnCode).toBe(0);
      await waitFor('the meter closed its valve', () => simulator.meters.get('Y2')?.valve, (valve) => valve === '00');
      await waitFor('a reading with the valve closed pushed', () => receiver.pushesOf('RealTimeData'), (pushes) =>
        pushes.some((push) => push.payload.meterNo === 'Y2' && push.payload.ValveState === '00'),
      );
      await simulator.stop();

      await waitFor('every push delivered', () => outboxRows(platform, tenant.id), (rows) =>
        rows.every((row) => row.state === 'delivered'),
      );
      const tally = await expectEveryReportPushedOnce(queryOf(platform), tenant, receiver);
      expect(tally.alarms).toBeGreaterThan(0);
      const alarm = receiver.pushesOf('AlarmData')[0]!;
      expect(alarm.payload).toMatchObject({ AlarmType: 'LOW_BATTERY', DataFrom: tenant.name });
    } finally {
      await simulator.stop();
      await receiver.close();
    }
  }, 120_000);
});
