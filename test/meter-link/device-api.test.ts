import type { Tenant } from '../../src/domain/model';
import { addGateway, deviceCall, openAccount, report } from '../support/meter-link';
import { countRows } from '../support/row-counts';
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
        // A 补扣 larger than the purchases leaves both balance and total below zero on the meter too.
        report('D1', '2026-01-01 08:00:00', {
          reading: 12.5,
          remainMoney: '-0.5',
          totalBuyMoney: '-7',
          temperature: -3.25,
          batteryPercent: 80,
        }),
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

    expect(
      await query(`SELECT reading, remain_money, total_buy_money, temperature FROM meter_reading ORDER BY read_at`),
    ).toEqual([
      { reading: '12.5000', remain_money: '-0.5000', total_buy_money: '-7.0000', temperature: '-3.2500' },
      { reading: '13.1234', remain_money: '0.0000', total_buy_money: null, temperature: null },
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

/**
 * Data the database cannot hold or a meter cannot have measured is the gateway's mistake: a 400
 * that names the item, its meter and the field, with nothing stored, never a platform fault
 * (which tells the gateway to send the same call again, forever).
 */
describe('device API refusing data the platform cannot store', () => {
  let platform: TestPlatform;
  let token: string;

  beforeAll(async () => {
    platform = await startTestPlatform();
    const tenant = await platform.createTenant({});
    token = await addGateway(platform, tenant);
    await openAccount(platform, tenant, 'B1', { preSaving: '100' });
    await openAccount(platform, tenant, 'B2');
    // B1's open_account command is in flight, so that a refused ack has something to change.
    const taken = await deviceCall(platform.url, token, 'uplink', { reports: [report('B1', new Date().toISOString())] });
    expect(taken.body.commands).toEqual([expect.objectContaining({ meterNo: 'B1', sequence: '1' })]);
  });
  afterAll(() => platform.close());

  const recently = () => new Date(Date.now() - 60_000).toISOString();
  const hoursAhead = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();

  /** Sends the call and expects a 400 listing exactly these problems, with no row written. */
  async function expectRefused(path: 'uplink' | 'ack', body: unknown, problems: Array<Record<string, unknown>>) {
    const before = await countRows(platform.database.dataSource);
    const answer = await deviceCall(platform.url, token, path, body);
    expect(answer).toEqual({
      status: 400,
      body: { error: 'refused', message: 'nothing was stored', problems },
    });
    expect(await countRows(platform.database.dataSource)).toEqual(before);
    return answer;
  }

  it.each([
    ['0001-01-01 00:00:00 (tenant time)', () => '0001-01-01 00:00:00', 'before 2000-01-01'],
    ['1999-12-31T23:59:59Z', () => '1999-12-31T23:59:59Z', 'before 2000-01-01'],
    ['two hours ahead of the platform', () => hoursAhead(2), 'in the future'],
  ])('refuses a report read at %s, naming it', async (_when, readAt, why) => {
    await expectRefused('uplink', { reports: [report('B2', recently()), report('B1', readAt())] }, [
      { index: 1, meterNo: 'B1', message: expect.stringMatching(new RegExp(`^readAt .*${why}`)) },
    ]);
  });

  it('refuses alarms dated before 2000 or in the future, naming the meter and the alarm', async () => {
    const alarms = [{ type: 'LEAK', at: '0001-01-01T00:00:00Z' }, { type: 'TAMPER' }, { type: 'LEAK', at: hoursAhead(30) }];
    await expectRefused('uplink', { reports: [report('B2', recently(), { alarms })] }, [
      { index: 0, meterNo: 'B2', message: expect.stringMatching(/^alarms\[0\]\.at .*before 2000-01-01/) },
      { index: 0, meterNo: 'B2', message: expect.stringMatching(/^alarms\[2\]\.at .*in the future/) },
    ]);
  });

  it('names a badly typed alarm by its place, with the meter', async () => {
    await expectRefused('uplink', { reports: [report('B2', recently(), { alarms: [{ type: 'LEAK' }, { type: 'low battery' }] })] }, [
      { index: 0, meterNo: 'B2', message: 'alarms[1].type must be upper-case letters, digits and _ (e.g. LOW_BALANCE)' },
    ]);
  });

  it.each([
    ['a NUL character', 'B2\u0000', 'U\\+0000'],
    ['an unpaired surrogate', 'B2\ud800', 'unpaired surrogate'],
    ['a trailing surrogate alone', '\udc00B2', 'unpaired surrogate'],
  ])('refuses a MeterNo with %s, naming the item and the field', async (_what, meterNo, why) => {
    await expectRefused('uplink', { reports: [report('B1', recently()), report(meterNo, recently())] }, [
      { index: 1, message: expect.stringMatching(new RegExp(`^meterNo .*${why}`)) },
    ]);
  });

  it.each([
    ['valveState', { valveState: '0\u0000' }],
    ['alarms[0].type', { alarms: [{ type: 'LEAK\u0000' }] }],
    ['alarms[0].message', { alarms: [{ type: 'LEAK', message: '漏气\ud83d' }] }],
    ['alarms[0].at', { alarms: [{ type: 'LEAK', at: `${recently()}\u0000` }] }],
  ])('refuses a report whose %s cannot be stored as text', async (field, extra) => {
    await expectRefused('uplink', { reports: [report('B2', recently(), extra)] }, [
      { index: 0, meterNo: 'B2', message: expect.stringMatching(new RegExp(`^${field.replace(/[[\]]/g, '\\$&')} must not contain`)) },
    ]);
  });

  it('accepts text with paired surrogates (characters beyond the BMP)', async () => {
    const answer = await deviceCall(platform.url, token, 'uplink', {
      reports: [report('B2', recently(), { alarms: [{ type: 'LEAK', message: '漏气 𠀀' }] })],
    });
    expect(answer.status).toBe(200);
    const stored = await platform.database.dataSource.query(`SELECT message FROM meter_alarm WHERE message LIKE '漏气%'`);
    expect(stored).toEqual([{ message: '漏气 𠀀' }]);
  });

  it.each([
    ['message is NUL', 'message', { meterNo: 'B2', sequence: 1, result: 'rejected', message: '\u0000' }, 'B2'],
    ['message ends in half a surrogate pair', 'message', { meterNo: 'B2', sequence: 1, result: 'rejected', message: '阀门\udfff' }, 'B2'],
    ['meterNo is NUL', 'meterNo', { meterNo: '\u0000', sequence: 1, result: 'applied' }, undefined],
    ['result holds a NUL', 'result', { meterNo: 'B2', sequence: 1, result: 'applied\u0000' }, 'B2'],
  ])('refuses an acknowledgement whose %s, leaving the command in flight', async (_what, field, bad, meterNo) => {
    await expectRefused('ack', { acks: [{ meterNo: 'B1', sequence: 1, result: 'applied' }, bad] }, [
      { index: 1, ...(meterNo ? { meterNo } : {}), message: expect.stringMatching(new RegExp(`^${field} must not contain`)) },
    ]);
    const inFlight = await platform.database.dataSource.query(
      `SELECT c.state FROM meter_command AS c JOIN meter AS m ON m.id = c.meter_id WHERE m.meter_no = 'B1' AND c.sequence = 1`,
    );
    expect(inFlight).toEqual([{ state: 'sent' }]);
  });
});
