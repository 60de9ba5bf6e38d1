import type { CisReceiver } from '../../src/cis-receiver/cis-receiver';
import type { Tenant } from '../../src/domain/model';
import { parseRegistrationCode } from '../../src/security/message-crypto';
import { addGateway, deviceCall, openAccount, report } from '../support/meter-link';
import { FAST_POLLING, outboxRows, outboxStates, pushTo, startReceiver, waitFor } from '../support/push';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';

const REGISTRATION_CODE = '0123456789ABCDEFFEDCBA98765432100F1E2D3C4B5A69788796A5B4C3D2E1F0';

/**
 * Reports stored through the device API reach the tenant's CIS as spec §6 pushes, over REST and
 * SOAP, in plaintext and encrypted, with every field filled.
 */
describe('pushing readings and alarms to the CIS', () => {
  let platform: TestPlatform;
  let receiver: CisReceiver;

  beforeAll(async () => {
    platform = await startTestPlatform({
      environment: FAST_POLLING,
      // The tenants below that encrypt use the worked example's code (DECISIONS §3.4).
      pushKeys: { keysFor: async () => parseRegistrationCode(REGISTRATION_CODE) },
    });
    receiver = await startReceiver({ registrationCode: REGISTRATION_CODE });
  });
  afterAll(async () => {
    await platform?.close();
    await receiver?.close();
  });

  async function tenantWithMeter(meterNo: string, input: Partial<Tenant> = {}) {
    const tenant = await platform.createTenant({ timeZone: 'Asia/Shanghai', ...input });
    await openAccount(platform, tenant, meterNo);
    return { tenant, token: await addGateway(platform, tenant) };
  }

  it('pushes a reading with every field of spec §6.1, numbers with four decimals, dates in the tenant zone', async () => {
    const { tenant, token } = await tenantWithMeter('R1');
    await pushTo(platform, tenant, receiver);

    const uplink = await deviceCall(platform.url, token, 'uplink', {
      reports: [
        report('R1', '2026-03-01T08:30:05+08:00', {
          reading: '158.22',
          temperature: '32.2',
          pressure: '125.32',
          remainMoney: '88.5',
          totalBuyMoney: '200',
          totalUsedGas: '35.1',
          totalUsedMoney: '111.5',
          price: '3.2',
        }),
      ],
    });
    expect(uplink.status).toBe(200);

    const [row] = await waitFor('the push delivered', () => outboxRows(platform, tenant.id), (rows) => rows[0]?.state === 'delivered');
    const received = receiver.received.get(row!.request_serial_no);
    expect(received?.payloadText).toBe(
      `{"cmdCode":"RealTimeData","DataFrom":"${tenant.name}","requestSerialNo":"${row!.request_serial_no}",` +
        '"userNo":"UR1","meterNo":"R1","CreateDate":"2026-03-01 08:30:05","Reading":158.2200,"ValveState":"01",' +
        '"Temperature":32.2000,"Pressure":125.3200,"RemainMoney":88.5000,"TotalBuyMoney":200.0000,' +
        '"TotalUsedGas":35.1000,"TotalUsedMoney":111.5000,"Price":3.2000}',
    );
    expect(received).toMatchObject({ transport: 'rest', encrypted: false, count: 1 });
    expect(row).toMatchObject({ attempts: 1, last_code: 0 });
  });

  it('pushes an alarm with every field of spec §6.2 to the alarm URL', async () => {
    const { tenant, token } = await tenantWithMeter('A1', { timeZone: 'Asia/Urumqi' });
    await pushTo(platform, tenant, receiver);

    await deviceCall(platform.url, token, 'uplink', {
      reports: [report('A1', '2026-03-01T08:30:05+08:00', { alarms: [{ type: 'LOW_BALANCE' }] })],
    });

    const rows = await waitFor('both pushes delivered', () => outboxRows(platform, tenant.id), (all) =>
      all.length === 2 && all.every((one) => one.state === 'delivered'),
    );
    const alarm = rows.find((one) => one.kind === 'alarm')!;
    expect(receiver.received.get(alarm.request_serial_no)?.payloadText).toBe(
      `{"cmdCode":"AlarmData","DataFrom":"${tenant.name}","requestSerialNo":"${alarm.request_serial_no}",` +
        '"userNo":"UA1","meterNo":"A1","AlarmTime":"2026-03-01 06:30:05","AlarmType":"LOW_BALANCE",' +
        '"AlarmMessage":"表内余额不足，请及时充值"}',
    );
  });

  it('encrypts with the registration code over SOAP, and the receiver verifies the MAC and decrypts', async () => {
    const { tenant, token } = await tenantWithMeter('S1');
    await platform.tenants.update(tenant.code, { plaintext: false });
    await pushTo(platform, tenant, receiver, { format: 'soap' });

    await deviceCall(platform.url, token, 'uplink', {
      reports: [report('S1', '2026-03-01T09:00:00+08:00', { alarms: [{ type: 'LEAK', message: '燃气泄漏' }] })],
    });

    const rows = await waitFor('both pushes delivered', () => outboxRows(platform, tenant.id), (all) =>
      all.length === 2 && all.every((one) => one.state === 'delivered'),
    );
    for (const row of rows) {
      expect(receiver.received.get(row.request_serial_no)).toMatchObject({ transport: 'soap', encrypted: true, count: 1 });
    }
    expect(rows.map((row) => receiver.received.get(row.request_serial_no)?.cmdCode).sort()).toEqual([
      'AlarmData',
      'RealTimeData',
    ]);
  });

  it('writes no push for a tenant without push settings, nor for a kind without a URL', async () => {
    const silent = await tenantWithMeter('N1');
    const readingsOnly = await tenantWithMeter('N2');
    await pushTo(platform, readingsOnly.tenant, receiver, { alarmUrl: null });

    const withAlarm = (meterNo: string) => ({
      reports: [report(meterNo, '2026-03-01T10:00:00+08:00', { alarms: [{ type: 'TAMPER' }] })],
    });
    expect((await deviceCall(platform.url, silent.token, 'uplink', withAlarm('N1'))).status).toBe(200);
    expect((await deviceCall(platform.url, readingsOnly.token, 'uplink', withAlarm('N2'))).status).toBe(200);

    expect(await outboxRows(platform, silent.tenant.id)).toEqual([]);
    expect((await outboxRows(platform, readingsOnly.tenant.id)).map((row) => row.kind)).toEqual(['reading']);
  });

  it('issues requestSerialNo values that never repeat', async () => {
    const { tenant, token } = await tenantWithMeter('U1');
    await pushTo(platform, tenant, receiver);
    const reports = Array.from({ length: 50 }, (_, index) =>
      report('U1', new Date(Date.UTC(2026, 2, 1, 0, 0, index)).toISOString()),
    );
    await deviceCall(platform.url, token, 'uplink', { reports });

    await waitFor('all delivered', () => outboxStates(platform, tenant.id), (states) => states.delivered === 50);
    const serials = (await outboxRows(platform)).map((row) => row.request_serial_no);
    expect(new Set(serials).size).toBe(serials.length);
    expect(serials.every((serial) => /^\d{20}$/.test(serial))).toBe(true);
  });
});
