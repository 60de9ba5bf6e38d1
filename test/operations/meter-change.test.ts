import { countRows } from '../support/row-counts';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';
import { type Transport, callOperation, meterAddPayload } from './operation-calls';

/**
 * MeterChange (spec §5.3.6; DECISIONS §5.1, §5.4): the user moves to the new meter with the
 * balance the CIS names, the old meter closes with its end reading, and a new meter the tenant
 * has ever had is refused.
 */
const TENANT = '苍南仪表集团';

describe('changing a meter', () => {
  let platform: TestPlatform;
  const sql = <T = Record<string, unknown>>(text: string, parameters: unknown[] = []) =>
    platform.database.dataSource.query(text, parameters) as Promise<T[]>;
  const call = (operation: Parameters<typeof callOperation>[2], fields: Record<string, unknown>) =>
    callOperation(platform, 'rest', operation, JSON.stringify({ DataFrom: TENANT, ...fields }));
  const change = (fields: Record<string, unknown>, transport: Transport = 'rest') => {
    const payload = {
      DataFrom: TENANT,
      UserID: 'U1',
      OldMeterID: 'OLD1',
      OldENDREADING: '8680.5',
      NewMeterID: 'NEW1',
      NewMeterNo: 'NEW1',
      NewMeterParamModel: 'CNMCPUJE',
      NewMeterProtocol: 'CNModbusV61',
      NewMeterReading: 3.25,
      ChangeTime: '2019-10-02 12:44:22',
      PreSaving: 1200,
      ...fields,
    };
    return callOperation(platform, transport, 'MeterChange', JSON.stringify(payload));
  };
  const open = async (userId: string, meterId: string, preSaving = '0', dataFrom = TENANT) => {
    const payload = meterAddPayload({ userId, meterId, dataFrom }).replace('"PreSaving":"0"', `"PreSaving":"${preSaving}"`);
    expect((await callOperation(platform, 'rest', 'MeterAdd', payload)).code).toBe(0);
  };

  beforeAll(async () => {
    platform = await startTestPlatform();
    await platform.createTenant({ code: 'cangnan', name: TENANT });
    await sql(`INSERT INTO meter_model (code, description, remote_controllable) VALUES ('CNMECH', 'no radio', false)`);
    await open('U1', 'OLD1', '1000');
    await open('U2', 'OTHER');
    await open('U3', 'OLD3');
    const recharge = await call('Recharge', {
      UserID: 'U1',
      MeterID: 'OLD1',
      TradeNo: 'MC-1',
      RechargeTime: '2019-10-01 09:00:00',
      RechargeAmt: '200',
    });
    expect(recharge.code).toBe(0);
  });
  afterAll(() => platform.close());

  it('moves the user and the balance to the new meter and closes the old one with its end reading', async () => {
    expect(await change({})).toMatchObject({ code: 0 });

    const meters = await sql(
      `SELECT m.meter_id, m.state, m.end_reading, m.initial_reading, r.meter_id AS replaced_by, c.user_id,
              m.gprs_dtu, m.area_name, m.price_scheme_id = (SELECT price_scheme_id FROM meter WHERE meter_id = 'OLD1') AS same_price,
              to_char(coalesce(m.closed_at, m.opened_at) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS') AS changed_at
         FROM meter m JOIN customer c ON c.id = m.customer_id LEFT JOIN meter r ON r.id = m.replaced_by
        WHERE m.meter_id IN ('OLD1', 'NEW1') ORDER BY m.id`,
    );
    expect(meters).toEqual([
      {
        meter_id: 'OLD1', state: -2, end_reading: '8680.5000', initial_reading: '0.0000', replaced_by: 'NEW1', user_id: 'U1',
        gprs_dtu: 'OLD1', area_name: '默认区域', same_price: true, changed_at: '2019-10-02 12:44:22',
      },
      {
        meter_id: 'NEW1', state: 0, end_reading: null, initial_reading: '3.2500', replaced_by: null, user_id: 'U1',
        gprs_dtu: 'NEW1', area_name: '默认区域', same_price: true, changed_at: '2019-10-02 12:44:22',
      },
    ]);
  });

  it('queues the old meter’s closing and the new meter’s opening, then the moved balance as a recharge', async () => {
    const commands = await sql<{ meter_id: string; sequence: string; kind: string; payload: Record<string, unknown> }>(
      `SELECT m.meter_id, c.sequence, c.kind, c.payload FROM meter_command c JOIN meter m ON m.id = c.meter_id
        WHERE m.meter_id IN ('OLD1', 'NEW1') ORDER BY m.id, c.sequence`,
    );
    expect(commands.map(({ meter_id, sequence, kind }) => `${meter_id} ${sequence} ${kind}`)).toEqual([
      'OLD1 1 open_account',
      'OLD1 2 recharge',
      'OLD1 3 recharge',
      'OLD1 4 close_account',
      'NEW1 1 open_account',
      'NEW1 2 recharge',
    ]);
    expect(commands[4]?.payload).toMatchObject({ meterNo: 'NEW1', initialReading: '3.2500', price: { priceId: '5021', version: '309' } });
    expect(commands[5]?.payload).toEqual({ amount: '1200.0000', tradeNo: null, reason: 'transfer' });

    expect(
      await sql(
        `SELECT m.meter_id, l.kind, l.amount, c.kind AS command FROM ledger_entry l JOIN meter m ON m.id = l.meter_id
           LEFT JOIN meter_command c ON c.id = l.command_id
          WHERE l.kind LIKE 'transfer%' ORDER BY l.id`,
      ),
    ).toEqual([
      { meter_id: 'OLD1', kind: 'transfer_out', amount: '-1200.0000', command: null },
      { meter_id: 'NEW1', kind: 'transfer_in', amount: '1200.0000', command: 'recharge' },
    ]);
  });

  it('answers ReadCurrentData for both: the old meter’s end reading and emptied balance, the new meter’s opening', async () => {
    const answer = await callOperation(
      platform,
      'rest',
      'ReadCurrentData',
      '{"Meters":[{"UserID":"U1","MeterID":"OLD1"},{"UserID":"U1","MeterID":"NEW1"}]}',
    );

    expect(answer.text).toContain(
      '{"UserID":"U1","MeterID":"OLD1","ReadTime":"2019-10-02 12:44:22","Reading":8680.5000,"ValveState":"01",' +
        '"Temperature":null,"Pressure":null,"TotalBuyMoney":1200.0000,"RemainMoney":0.0000,',
    );
    expect(answer.text).toContain(
      '{"UserID":"U1","MeterID":"NEW1","ReadTime":"2019-10-02 12:44:22","Reading":3.2500,"ValveState":"01",' +
        '"Temperature":null,"Pressure":null,"TotalBuyMoney":1200.0000,"RemainMoney":1200.0000,',
    );
  });

  it('serves the user on the new meter and refuses the old one (80002023)', async () => {
    const recharge = (meterId: string, tradeNo: string) =>
      call('Recharge', { UserID: 'U1', MeterID: meterId, TradeNo: tradeNo, RechargeTime: '2019-10-03 09:00:00', RechargeAmt: '10' });
    expect((await recharge('NEW1', 'MC-2')).code).toBe(0);
    expect((await recharge('OLD1', 'MC-3')).code).toBe(80002023);
    expect((await change({ NewMeterID: 'NEW9', NewMeterNo: 'NEW9' })).code).toBe(80002023);
  });

  it('refuses a new meter the tenant has ever had (80002015) and changes nothing', async () => {
    const before = await sql(`SELECT meter_id, state, end_reading FROM meter ORDER BY id`);
    const fromOld3 = (fields: Record<string, unknown>) => change({ UserID: 'U3', OldMeterID: 'OLD3', PreSaving: 0, ...fields });

    for (const clash of [
      { NewMeterID: 'OTHER', NewMeterNo: 'FRESH' },
      { NewMeterID: 'FRESH', NewMeterNo: 'OTHER' },
      { NewMeterID: 'OLD1', NewMeterNo: 'OLD1' },
      { NewMeterID: 'OLD3', NewMeterNo: 'OLD3' },
    ]) {
      const answer = await fromOld3(clash);
      expect(answer.code).toBe(80002015);
      expect(answer.message).toContain(clash.NewMeterID);
    }
    expect(await sql(`SELECT meter_id, state, end_reading FROM meter ORDER BY id`)).toEqual(before);
  });

  it('refuses another user’s meter (80002013), an unknown model or protocol (80002028, 80002029) and bad fields', async () => {
    const fromOld3 = (fields: Record<string, unknown>) =>
      change({ UserID: 'U3', OldMeterID: 'OLD3', NewMeterID: 'NEW3', NewMeterNo: 'NEW3', PreSaving: 0, ...fields });

    expect((await fromOld3({ UserID: 'U2' })).code).toBe(80002013);
    expect((await fromOld3({ NewMeterParamModel: 'NOSUCH' })).code).toBe(80002028);
    expect((await fromOld3({ NewMeterProtocol: 'NOSUCH' })).code).toBe(80002029);
    const missing = await fromOld3({ NewMeterReading: undefined });
    expect(missing.code).toBe(80002003);
    expect(missing.message).toContain('NewMeterReading');
    expect((await fromOld3({ ChangeTime: '2019/10/02' })).code).toBe(80002002);
    expect((await fromOld3({ OldENDREADING: '1.00005' })).code).toBe(80002002);
    expect((await fromOld3({ NewMeterParamModel: 'CNMECH', PreSaving: 5 })).code).toBe(80002024);
    expect(await sql(`SELECT count(*)::int AS n FROM meter WHERE meter_id = 'NEW3'`)).toEqual([{ n: 0 }]);
  });

  it('moves no balance where the CIS bills (80002003 for PreSaving > 0), but changes the meter', async () => {
    const SYSTEM = '系统计费燃气公司';
    await platform.createTenant({ code: 'sys', name: SYSTEM, billingMode: 'system' });
    await open('SU1', 'SOLD', '0', SYSTEM);
    const systemChange = (preSaving: number) =>
      change({ UserID: 'SU1', OldMeterID: 'SOLD', NewMeterID: 'SNEW', NewMeterNo: 'SNEW', PreSaving: preSaving, DataFrom: SYSTEM });

    const refused = await systemChange(5);
    expect(refused.code).toBe(80002003);
    expect(refused.message).toContain('系统端计费');
    expect((await systemChange(0)).code).toBe(0);
  });

  describe('with a PreSaving larger than the old meter’s ledger balance', () => {
    const MAX = '999999999999.9999';
    const figures = async (pairs: Array<[string, string]>) => {
      const Meters = pairs.map(([UserID, MeterID]) => ({ UserID, MeterID }));
      const answer = await call('ReadCurrentData', { Meters });
      return [...answer.text.matchAll(/"MeterID":"(\w+)".*?"TotalBuyMoney":([^,]+),"RemainMoney":([^,]+)/g)].map(
        ([, meterId, totalBuy, remain]) => `${meterId} ${totalBuy} ${remain}`,
      );
    };
    /** User `U${n}` changes meter `OLD${n}` for `NEW${n}`. */
    const changeOf = (n: number, preSaving: string, transport: Transport = 'rest') =>
      change({ UserID: `U${n}`, OldMeterID: `OLD${n}`, NewMeterID: `NEW${n}`, NewMeterNo: `NEW${n}`, PreSaving: preSaving }, transport);

    beforeAll(async () => {
      await open('U4', 'OLD4', '7');
      await open('U5', 'OLD5');
      const deduct = await call('RemainOption', {
        UserID: 'U5',
        MeterID: 'OLD5',
        TradeNo: 'MC-DEDUCT',
        CMDOption: 2000,
        OptionTime: '2019-10-01 09:00:00',
        OptionAmt: '7',
      });
      expect(deduct.code).toBe(0);
    });

    it.each<Transport>(['rest', 'soap'])(
      'refuses over %s one that would take the old meter’s RemainMoney below -999999999999.9999 (80002002) and changes nothing',
      async (transport) => {
        const stored = async () => ({
          rows: await countRows(platform.database.dataSource),
          meters: await sql(`SELECT id, state, end_reading, replaced_by, last_command_sequence FROM meter ORDER BY id`),
        });
        const before = await stored();

        const answer = await changeOf(5, MAX, transport);

        expect(answer.code).toBe(80002002);
        expect(answer.message).toContain('PreSaving');
        expect(answer.message).toContain('OLD5 的 RemainMoney 变为 -1000000000006.9999');
        expect(await stored()).toEqual(before);
        expect(await figures([['U5', 'OLD5']])).toEqual(['OLD5 -7.0000 -7.0000']);
      },
    );

    it('moves it as the CIS names it while every figure stays in range: 999999999999.9999 off a meter holding 7.00', async () => {
      // DECISIONS §5.4 does not hold PreSaving to the platform's ledger, which does not see all the
      // money on a meter (an account migrated from an older system has none), so it is not refused.
      expect((await changeOf(4, MAX)).code).toBe(0);

      expect(await figures([['U4', 'OLD4'], ['U4', 'NEW4']])).toEqual([
        'OLD4 7.0000 -999999999992.9999',
        `NEW4 ${MAX} ${MAX}`,
      ]);
    });
  });
});
