import type { CisReceiver } from '../../src/cis-receiver/cis-receiver';
import type { Tenant } from '../../src/domain/model';
import { runCli } from '../support/cli';
import { addGateway, deviceCall, openAccount, report } from '../support/meter-link';
import { FAST_POLLING, outboxRows, outboxStates, startReceiver, waitFor } from '../support/push';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';

/**
 * The operator's push commands, run as a process against a running platform's database: settings,
 * dead letters after the maximum age, and resending them once the CIS is back.
 */
describe('cnmcsp push', () => {
  let platform: TestPlatform;
  let receiver: CisReceiver;
  let tenant: Tenant;
  let token: string;
  const cli = (...args: string[]) =>
    runCli(args, {
      DATABASE_URL: platform.environment.DATABASE_URL ?? '',
      DATA_DIR: platform.environment.DATA_DIR ?? '',
      PLATFORM_SECRET: platform.environment.PLATFORM_SECRET,
    });

  beforeAll(async () => {
    platform = await startTestPlatform({ persistent: true, environment: FAST_POLLING });
    receiver = await startReceiver();
    tenant = await platform.createTenant({});
    await openAccount(platform, tenant, 'C1');
    token = await addGateway(platform, tenant);
  }, 120_000);
  afterAll(async () => {
    await platform?.close();
    await receiver?.close();
  });

  it('sets and shows where and how a tenant is pushed', async () => {
    const set = await cli(
      'push', 'set', tenant.code,
      '--reading-url', receiver.restReadingUrl,
      '--alarm-url', receiver.restAlarmUrl,
      '--format', 'rest', '--timeout', '500ms', '--concurrency', '4',
      '--max-age', '2s', '--backoff-base', '100ms', '--backoff-max', '200ms',
    );
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(set.stdout).toContain(`push settings of ${tenant.code} saved`);

    const shown = await cli('push', 'show', tenant.code);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(receiver.restReadingUrl);
    expect(shown.stdout).toMatch(/'rest'.*'500ms'.*4.*'2s'.*'100ms\.\.200ms'/);
  }, 120_000);

  it('refuses settings that cannot work and says what to fix', async () => {
    const badFormat = await cli('push', 'set', tenant.code, '--format', 'xml');
    expect(badFormat).toMatchObject({ code: 1 });
    expect(badFormat.stderr).toContain('--format must be rest or soap');
    const badUrl = await cli('push', 'set', tenant.code, '--reading-url', 'ftp://cis/readings');
    expect(badUrl.stderr).toContain('--reading-url must be an http:// or https:// URL');
    const badTimeout = await cli('push', 'set', tenant.code, '--timeout', 'soon');
    expect(badTimeout.stderr).toContain('--timeout must be a duration such as 500ms');
    const unknown = await cli('push', 'show', 'nobody');
    expect(unknown.stderr).toContain('no tenant with code nobody');
  }, 120_000);

  it('lists pushes that outlived their maximum age as dead letters, and resends them', async () => {
    await receiver.goDown();
    const uplink = await deviceCall(platform.url, token, 'uplink', {
      reports: [
        report('C1', '2026-04-01T08:00:00+08:00', { alarms: [{ type: 'LOW_BATTERY' }] }),
        report('C1', '2026-04-01T09:00:00+08:00'),
      ],
    });
    expect(uplink.status).toBe(200);
    await waitFor('three dead letters', () => outboxStates(platform, tenant.id), (states) => states.dead === 3, 30_000);

    const dead = await cli('push', 'dead', '--tenant', tenant.code);
    expect(dead.code).toBe(0);
    const rows = await outboxRows(platform, tenant.id);
    for (const row of rows) expect(dead.stdout).toContain(row.request_serial_no);
    expect(dead.stdout).toContain('80002032');
    expect(rows.every((row) => row.last_code === 80002032 && /对方服务器无响应/.test(row.last_error ?? ''))).toBe(true);

    await receiver.comeBack();
    const one = await cli('push', 'resend', rows[0]!.request_serial_no);
    expect(one.stdout).toContain(`(${rows[0]!.request_serial_no}) queued again`);
    await waitFor('the first one delivered', () => outboxRows(platform, tenant.id), (all) => all[0]?.state === 'delivered');

    const again = await cli('push', 'resend', rows[0]!.request_serial_no);
    expect(again.stderr).toContain('is delivered, not a dead letter');
    const all = await cli('push', 'resend', '--all-dead', '--tenant', tenant.code);
    expect(all.stdout).toContain('2 dead letters queued again');
    await waitFor('all delivered', () => outboxStates(platform, tenant.id), (states) => states.delivered === 3);

    // Resent with the serial it had: the receiver sees each serial once.
    expect(rows.map((row) => receiver.received.get(row.request_serial_no)?.count)).toEqual([1, 1, 1]);
    expect((await cli('push', 'dead')).stdout).toContain('no dead letters');
  }, 120_000);
});
