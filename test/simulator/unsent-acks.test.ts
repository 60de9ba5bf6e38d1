import { Simulator } from '../../src/simulator/simulator';
import { restCall } from '../support/cis-client';
import { addGateway, openAccount, startGatewayLink, type GatewayLink } from '../support/meter-link';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';

/**
 * A meter's acknowledgement that could not be sent goes out at its next wake-up, and the command
 * the platform hands back in that answer (already marked sent to the meter) is applied then, not
 * left in flight until the acknowledgement timeout sends it again.
 */
describe('simulated gateway with acknowledgements left over from a failed call', () => {
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

  const commandStates = async () =>
    (
      (await platform.database.dataSource.query(
        `SELECT kind, state FROM meter_command ORDER BY sequence`,
      )) as Array<{ kind: string; state: string }>
    ).map(({ kind, state }) => `${kind} ${state}`);

  it('sends them first and takes the next command at once', async () => {
    const tenant = await platform.createTenant({});
    await openAccount(platform, tenant, 'A1');
    const valve = await restCall(
      platform.url,
      '/rest/Standard/valve/controlValve',
      JSON.stringify({ UserID: 'UA1', MeterID: 'A1', Control: 2010, DataFrom: tenant.name }),
    );
    expect(valve.json.ReturnCode).toBe(0);

    const simulator = new Simulator({ url: link.url, token: await addGateway(platform, tenant), intervalMs: 60_000 });
    await simulator.refreshMeters();

    link.downFor.add('/device/v1/ack');
    expect(await simulator.wakeUp()).toMatchObject({ reports: 1, commands: 1, errors: 1 });
    expect(await commandStates()).toEqual(['open_account sent', 'valve queued']);

    link.downFor.clear();
    expect(await simulator.wakeUp()).toMatchObject({ commands: 1, errors: 0 });
    expect(await commandStates()).toEqual(['open_account succeeded', 'valve succeeded']);
  });
});
