import pino from 'pino';
import type { Tenant } from '../../src/domain/model';
import { Simulator } from '../../src/simulator/simulator';
import { addGateway, openAccount } from '../support/meter-link';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';

/**
 * A refusal (HTTP 400) is final: the simulator drops the reports the platform refused, logs them
 * once, and the other meters behind the same gateway keep reporting and taking their commands.
 */
describe('simulated gateway with one meter whose reports are refused', () => {
  let platform: TestPlatform;
  let tenant: Tenant;
  let logged: Array<Record<string, any>>;
  let simulator: Simulator;

  beforeAll(async () => {
    platform = await startTestPlatform();
    tenant = await platform.createTenant({});
    for (const meterNo of ['R1', 'R2', 'R3']) await openAccount(platform, tenant, meterNo, { preSaving: '20' });
    logged = [];
    const logStream = { write: (line: string) => logged.push(JSON.parse(line) as Record<string, any>) };
    simulator = new Simulator({
      url: platform.url,
      token: await addGateway(platform, tenant),
      intervalMs: 60_000,
      consumption: () => '0.1',
      // R2's clock runs two days ahead: the platform refuses every report it writes.
      faults: { R2: { clockOffsetMs: 2 * 24 * 3_600_000 } },
      logger: pino({ level: 'warn' }, logStream),
    });
    await simulator.refreshMeters();
  });
  afterAll(() => platform.close());

  const readings = async () =>
    (await platform.database.dataSource.query(
      `SELECT m.meter_no AS "meterNo", count(r.read_at)::int AS n
         FROM meter AS m LEFT JOIN meter_reading AS r ON r.meter_id = m.id
        GROUP BY m.meter_no ORDER BY m.meter_no`,
    )) as Array<{ meterNo: string; n: number }>;

  it('stores the other meters’ reports at every wake-up and drops the refused one each time', async () => {
    for (let wake = 1; wake <= 3; wake += 1) {
      const result = await simulator.wakeUp();
      // One refused report per wake-up: the earlier ones were dropped, not carried along.
      expect(result).toMatchObject({ reports: 2, refused: 1, errors: 0 });
    }
    expect(await readings()).toEqual([
      { meterNo: 'R1', n: 3 },
      { meterNo: 'R2', n: 0 },
      { meterNo: 'R3', n: 3 },
    ]);
  });

  it('delivers the commands of the other meters', () => {
    // The opening balance (PreSaving) is a recharge command the meter takes at its first report.
    for (const meterNo of ['R1', 'R3']) expect(simulator.meters.get(meterNo)!.totalBuy.toFixed(4)).toBe('20.0000');
    // R2's reports were refused, and a refused call hands over no commands.
    expect(simulator.meters.get('R2')!.totalBuy.toFixed(4)).toBe('0.0000');
  });

  it('logs each refused report once, naming the meter and the problem', () => {
    const refusals = logged.filter((line) => line.msg.includes('refused'));
    expect(refusals).toHaveLength(3);
    for (const line of refusals) {
      expect(line).toMatchObject({ call: 'uplink', status: 400, dropped: 1, meterNos: ['R2'] });
      expect(line.problems).toEqual([expect.stringMatching(/^item 1 \(meter R2\): readAt .* is in the future/)]);
    }
  });
});
