import type { Tenant } from '../../src/domain/model';
import { addGateway, deviceCall, openAccount, report } from '../support/meter-link';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';

/**
 * The device API over real HTTP on a real database: gateways authenticate, reports are stored
 * whole or not at all, and each uplink is answered with the meters' due commands.
 */
describe('device API', () => {
  let platform: TestPlatform;
  let tenant: Tenant;
  let other: Tenant;
  let token: string;
  let otherToken: string;

  beforeAll(async () => {
    platform = await startTestPlatform();
    tenant = await platform.createTenant({});
    other = await platform.createTenant({});
    token = await addGateway(platform, tenant);
    otherToken = await addGateway(platform, other);
    await openAccount(platform, tenant, 'D1');
    await openAccount(platform, tenant, 'D2');
    await openAccount(platform, other, 'X1');
  });
  afterAll(() => platform.close());

  const query = (sql: string, parameters: unknown[] = []) => platform.database.dataSource.query(sql, parameters);

  it('refuses a call without a valid gateway token', async () => {
    expect((await deviceCall(platform.url, 'cgw_nope', 'meters')).status).toBe(401);
    const response = await fetch(`${platform.url}/device/v1/uplink`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
  });

  it("lists only the gateway's own tenant's meters", async () => {
    const answer = await deviceCall(platform.url, token, 'meters');
    expect(answer.status).toBe(200);
    expect(answer.body.meters.map((meter: { meterNo: string }) => meter.meterNo)).toEqual(['D1', 'D2']);
  });

  it('refuses a malformed report with every problem named, and stores nothing of the uplink', async () => {
    const answer = await deviceCall(platform.url, token, 'uplink', {
      reports: [
        report('D1', '2026-01-01T08:00:00+08:00'),
        { meterNo: 'D2', readAt: 'yesterday', reading: '1.23456', valveState: '07' },
      ],
    });
    expect(answer.status).toBe(400);
    expect(answer.body.message).toBe('nothing was stored');
    const messages = answer.body.problems.map((problem: { message: string }) => problem.message);
    expect(messages).toEqual([
      expect.stringContaining('readAt must be ISO 8601'),
      expect.stringContaining('valveState must be'),
      expect.stringContaining('reading must have at most 12 integer and 4 decimal digits'),
    ]);
    expect(answer.body.problems[0]).toMatchObject({ index: 1, meterNo: 'D2' });
    expect(await query('SELECT count(*)::int AS n FROM meter_reading')).toEqual([{ n: 0 }]);
  });

  it("refuses reports for an unknown meter or another tenant's meter, storing nothing", async () => {
    const answer = await deviceCall(platform.url, token, 'uplink', {
      reports: [report('D1', '2026-01-01T08:00:00+08:00'), report('X1', '2026-01-01T08:00:00+08:00')],
    });
    expect(answer.status).toBe(422);
    expect(answer.body.problems).toEqual([{ index: 1, meterNo: 'X1', message: expect.stringContaining('no meter X1') }]);
    expect(await query('SELECT count(*)::int AS n FROM meter_reading')).toEqual([{ n: 0 }]);
    expect(await query('SELECT count(*)::int AS n FROM meter_command WHERE state = $1', ['sent'])).toEqual([{ n: 0 }]);
  });

  it('stores readings as a time series, keeps the latest as the snapshot and moves the meter to in use', async () => {
    const answer = await deviceCall(platform.url, token, 'uplink', {
      reports: [
        report('D1', '2026-01-01 08:00:00', { reading: 12.5, remainMoney: '-0.5', temperature: -3.25, batteryPercent: 80 }),
        report('D1', '2026-01-01T09:00:00+08:00', {
          reading: '13.1234',
          valveState: '00',
          remainMoney: '0.0000',
          totalUsedGas: '3.1234',
          alarms: [{ type: 'LOW_BALANCE' }, { type: 'VALVE_FAULT', message: '阀门卡住' }],
        }),
      ],
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ stored: 2, repeated: 0, alarms: 2 });

    expect(await query(`SELECT reading, remain_money, temperature FROM meter_reading ORDER BY read_at`)).toEqual([
      { reading: '12.5000', remain_money: '-0.5000', temperature: '-3.2500' },
      { reading: '13.1234', remain_money: '0.0000', temperature: null },
    ]);
    const [snapshot] = await query(`SELECT read_at, reading, valve_state, total_used_gas FROM meter_snapshot`);
    expect(snapshot).toEqual({
      read_at: new Date('2026-01-01T01:00:00Z'),
      reading: '13.1234',
      valve_state: '00',
      total_used_gas: '3.1234',
    });
    expect(await query(`SELECT meter_no, state, valve_state FROM meter ORDER BY meter_no`)).toEqual([
      { meter_no: 'D1', state: 1, valve_state: '00' },
      { meter_no: 'D2', state: 0, valve_state: '01' },
      { meter_no: 'X1', state: 0, valve_state: '01' },
    ]);
    expect(await query(`SELECT alarm_type, message FROM meter_alarm ORDER BY alarm_type`)).toEqual([
      { alarm_type: 'LOW_BALANCE', message: '表内余额不足，请及时充值' },
      { alarm_type: 'VALVE_FAULT', message: '阀门卡住' },
    ]);
  });

  it('stores a repeated uplink once, and an older report never replaces the snapshot', async () => {
    const answer = await deviceCall(platform.url, token, 'uplink', {
      reports: [
        report('D1', '2026-01-01T09:00:00+08:00', { reading: '13.1234', valveState: '00', alarms: [{ type: 'LOW_BALANCE', at: '2026-01-01T09:00:00+08:00' }] }),
        report('D1', '2026-01-01T07:00:00+08:00', { reading: '11.0000' }),
      ],
    });
    expect(answer.body).toMatchObject({ stored: 1, repeated: 1, alarms: 0 });
    expect(await query(`SELECT reading FROM meter_snapshot`)).toEqual([{ reading: '13.1234' }]);
    expect(await query(`SELECT count(*)::int AS n FROM meter_reading`)).toEqual([{ n: 3 }]);
  });

  it('answers an uplink with the meter’s head command, one at a time and in sequence order', async () => {
    await openAccount(platform, tenant, 'D3', { preSaving: '100' });
    const first = await deviceCall(platform.url, token, 'uplink', { reports: [report('D3', '2026-01-02T08:00:00+08:00')] });
    expect(first.body.commands).toEqual([
      expect.objectContaining({ meterNo: 'D3', sequence: '1', kind: 'open_account', attempt: 1 }),
    ]);
    expect(first.body.commands[0].payload.price).toMatchObject({ priceMode: 100, price1: '3.2000' });

    const again = await deviceCall(platform.url, token, 'uplink', { reports: [report('D3', '2026-01-02T09:00:00+08:00')] });
    expect(again.body.commands).toEqual([]);

    const ack = await deviceCall(platform.url, token, 'ack', { acks: [{ meterNo: 'D3', sequence: 1, result: 'applied' }] });
    expect(ack.body.results).toEqual([{ meterNo: 'D3', sequence: '1', status: 'succeeded' }]);
    expect(ack.body.commands).toEqual([
      expect.objectContaining({ meterNo: 'D3', sequence: '2', kind: 'recharge', payload: expect.objectContaining({ amount: '100.0000' }) }),
    ]);

    const repeat = await deviceCall(platform.url, token, 'ack', { acks: [{ meterNo: 'D3', sequence: 1, result: 'applied' }] });
    expect(repeat.body.results).toEqual([{ meterNo: 'D3', sequence: '1', status: 'ignored' }]);
    expect(repeat.body.commands).toEqual([]);
  });

  it('refuses an acknowledgement naming a meter of another tenant', async () => {
    const answer = await deviceCall(platform.url, otherToken, 'ack', { acks: [{ meterNo: 'D3', sequence: 2, result: 'applied' }] });
    expect(answer.status).toBe(422);
  });
});
