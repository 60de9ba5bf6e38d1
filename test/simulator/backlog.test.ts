import { MAX_ITEMS_PER_CALL } from '../../src/meter-link/device-messages';
import { Simulator } from '../../src/simulator/simulator';
import { addGateway, openAccount, startGatewayLink, type GatewayLink } from '../support/meter-link';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';

/**
 * After an outage every meter carries its backlog (up to 24 reports). A batch of meters whose
 * backlogs add up to more than the device API takes in one call is split, instead of being refused
 * as too large (413) at every wake-up from then on.
 */
describe('simulated gateway after an outage', () => {
  const METERS = 42; // 42 × 24 = 1008 reports: more than one call may carry
  const BACKLOG = 24;
  let platform: TestPlatform;
  let link: GatewayLink;

  beforeAll(async () => {
    platform = await startTestPlatform();
    link = await startGatewayLink(platform.url);
  });
  afterAll(async () => {
    await link.close();
    await platform.close();
  });

  it('sends every meter’s backlog in calls the platform accepts', async () => {
    const tenant = await platform.createTenant({});
    const meterNos = Array.from({ length: METERS }, (_, index) => `B${String(index + 1).padStart(2, '0')}`);
    for (const meterNo of meterNos) await openAccount(platform, tenant, meterNo);
    let clock = Date.now() - 3_600_000;
    const simulator = new Simulator({
      url: link.url,
      token: await addGateway(platform, tenant),
      intervalMs: 60_000,
      batchSize: 100,
      consumption: () => '0.1',
      clock: () => new Date((clock += 1000)),
    });
    await simulator.refreshMeters();
    expect(METERS * BACKLOG).toBeGreaterThan(MAX_ITEMS_PER_CALL);

    link.down = true;
    for (let wake = 1; wake < BACKLOG; wake += 1) expect((await simulator.wakeUp()).errors).toBe(1);
    link.down = false;

    expect(await simulator.wakeUp()).toMatchObject({ reports: METERS * BACKLOG, refused: 0, errors: 0 });
    const [{ n }] = await platform.database.dataSource.query(`SELECT count(*)::int AS n FROM meter_reading`);
    expect(n).toBe(METERS * BACKLOG);
  });
});
