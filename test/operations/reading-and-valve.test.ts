import type { Tenant } from '../../src/domain/model';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';
import { callOperation, meterAddPayload, type Transport } from './operation-calls';
import { countTransactionStatements, seedMeters } from './seed-meters';

/**
 * ReadCurrentData and ControlValve (spec §5.3.7, §5.3.12; DECISIONS §4, §5.5, §5.6): money and
 * readings exact from the request text to the database and back to the response text, figures
 * from the meter's latest report or, before one, from its opening, and valve commands that leave
 * the valve state to the meter link.
 */
const TENANT = '苍南仪表集团';

describe('current data and valves', () => {
  let platform: TestPlatform;
  let tenant: Tenant;
  const sql = <T = Record<string, unknown>>(text: string, parameters: unknown[] = []) =>
    platform.database.dataSource.query(text, parameters) as Promise<T[]>;
  const call = (operation: Parameters<typeof callOperation>[2], fields: Record<string, unknown>) =>
    callOperation(platform, 'rest', operation, JSON.stringify({ DataFrom: TENANT, ...fields }));
  const callText = (operation: Parameters<typeof callOperation>[2], payload: string) =>
    callOperation(platform, 'rest', operation, payload);
  const read = (pairs: Array<[string, string]>, transport: Transport = 'rest') => {
    const meters = pairs.map(([UserID, MeterID]) => ({ UserID, MeterID }));
    return callOperation(platform, transport, 'ReadCurrentData', JSON.stringify({ Meters: meters }));
  };
  const valve = (meterId: string, control: unknown, userId = `U${meterId}`) =>
    call('ControlValve', { UserID: userId, MeterID: meterId, Control: control });
  const elementOf = (text: string, meterId: string) => new RegExp(`\\{[^{}]*"MeterID":"${meterId}"[^{}]*\\}`).exec(text)?.[0];

  beforeAll(async () => {
    platform = await startTestPlatform();
    tenant = await platform.createTenant({ code: 'cangnan', name: TENANT });
    await sql(`INSERT INTO meter_model (code, description, remote_controllable) VALUES ('CNMECH', 'no radio', false)`);
    const accounts = [
      { meterId: 'A', preSaving: '"50000"', meterReading: '0.0001' },
      { meterId: 'B', preSaving: '0', meterReading: '999999999999.9999' },
      { meterId: 'V', preSaving: '0' },
      { meterId: 'LOCAL', preSaving: '0', model: 'CNMECH' },
    ];
    for (const { meterId, preSaving, ...rest } of accounts) {
      const payload = meterAddPayload({ userId: `U${meterId}`, meterId, dataFrom: TENANT, ...rest }).replace(
        '"PreSaving":"0"',
        `"PreSaving":${preSaving}`,
      );
      expect((await callText('MeterAdd', payload)).code).toBe(0);
    }
  });
  afterAll(() => platform.close());

  describe('ReadCurrentData', () => {
    it('keeps 999999999999.9999, 0.0001, 1.2 and "50000" exact from request text to database to response text', async () => {
      // Payloads written as text: a number token such as 999999999999.9999 must reach the platform as sent.
      const recharge = (meterId: string, tradeNo: string, amount: string) =>
        callText(
          'Recharge',
          `{"UserID":"U${meterId}","MeterID":"${meterId}","TradeNo":"${tradeNo}",` +
            `"RechargeTime":"2019-10-02 12:34:22","RechargeAmt":${amount},"DataFrom":"${TENANT}"}`,
        );
      expect((await recharge('A', 'D-1', '1.2')).code).toBe(0);
      expect((await recharge('B', 'D-2', '999999999999.9999')).code).toBe(0);
      const refund = await callText(
        'RemainOption',
        `{"UserID":"UA","MeterID":"A","TradeNo":"D-3","CMDOption":1000,"OptionTime":"2019-10-02 12:34:22",` +
          `"OptionAmt":0.0001,"DataFrom":"${TENANT}"}`,
      );
      expect(refund.code).toBe(0);

      expect(
        await sql(
          `SELECT m.meter_id, m.initial_reading, l.kind, l.amount, c.payload->>'amount' AS command_amount
             FROM ledger_entry l JOIN meter m ON m.id = l.meter_id JOIN meter_command c ON c.id = l.command_id
            ORDER BY l.id`,
        ),
      ).toEqual([
        { meter_id: 'A', initial_reading: '0.0001', kind: 'opening', amount: '50000.0000', command_amount: '50000.0000' },
        { meter_id: 'A', initial_reading: '0.0001', kind: 'recharge', amount: '1.2000', command_amount: '1.2000' },
        { meter_id: 'B', initial_reading: '999999999999.9999', kind: 'recharge', amount: '999999999999.9999', command_amount: '999999999999.9999' },
        { meter_id: 'A', initial_reading: '0.0001', kind: 'refund', amount: '0.0001', command_amount: '0.0001' },
      ]);
      for (const transport of ['rest', 'soap'] as const) {
        const answer = await read([['UA', 'A'], ['UB', 'B']], transport);
        expect(answer.code).toBe(0);
        expect(elementOf(answer.text, 'A')).toContain(
          '"Reading":0.0001,"ValveState":"01","Temperature":null,"Pressure":null,' +
            '"TotalBuyMoney":50001.2001,"RemainMoney":50001.2001,"TotalUsedGas":null,"TotalUsedMoney":null,"Price":1.2000',
        );
        expect(elementOf(answer.text, 'B')).toContain('"Reading":999999999999.9999,');
        expect(elementOf(answer.text, 'B')).toContain('"TotalBuyMoney":999999999999.9999,"RemainMoney":999999999999.9999,');
      }
    });

    it('answers from the meter’s latest report, and the valve state the meter link keeps', async () => {
      await sql(
        `INSERT INTO meter_snapshot (meter_id, tenant_id, read_at, reading, valve_state, temperature, pressure,
                                     remain_money, total_used_gas, total_used_money, price)
         SELECT id, tenant_id, '2019-10-03 08:00:00+08', 12.3456, '00', -5.5, 101.325, 49990.1234, 10.5, 12.6, 1.8
           FROM meter WHERE meter_id = 'A'`,
      );
      await sql(`UPDATE meter SET valve_state = '10' WHERE meter_id = 'A'`);

      const answer = await read([['UA', 'A']]);
      expect(answer.text).toContain(
        '{"UserID":"UA","MeterID":"A","ReadTime":"2019-10-03 08:00:00","Reading":12.3456,"ValveState":"10",' +
          '"Temperature":-5.5000,"Pressure":101.3250,"TotalBuyMoney":50001.2001,"RemainMoney":49990.1234,' +
          '"TotalUsedGas":10.5000,"TotalUsedMoney":12.6000,"Price":1.8000,"MeterState":0}',
      );
    });

    it('answers for a closed meter too (DECISIONS §5.1)', async () => {
      expect((await call('MeterDelete', { UserID: 'UB', MeterID: 'B' })).code).toBe(0);
      const answer = await read([['UB', 'B']]);
      expect(answer.code).toBe(0);
      expect(answer.text).toContain('"MeterState":-2');
    });

    it('answers nothing when one pair does not match, and names the first (80002013)', async () => {
      const answer = await read([['UA', 'A'], ['UA', 'V'], ['NOBODY', 'NOPE']]);
      expect(answer.code).toBe(80002013);
      expect(answer.message).toContain('第 2 项');
      expect(answer.message).toContain('UserID UA，MeterID V');
      expect(answer.json.ReadingData).toBeUndefined();
    });

    it('needs Meters, each with a UserID and a MeterID (80002003)', async () => {
      expect((await callText('ReadCurrentData', '{}')).code).toBe(80002003);
      const missing = await callText('ReadCurrentData', '{Meters:[{"UserID":"UA","MeterID":"A"},{"UserID":"UV"}]}');
      expect(missing.code).toBe(80002003);
      expect(missing.message).toContain('MeterID');
      expect(missing.message).toContain('第 2 项');
    });

    it('runs the same number of SQL statements for 10 meters as for 1,000', async () => {
      await seedMeters(platform, tenant.id, 'R', 1000);
      const pairs = (count: number) =>
        Array.from({ length: count }, (_, index): [string, string] => [`RU${index + 1}`, `RM${index + 1}`]);

      const few = await countTransactionStatements(platform, 'meter_snapshot AS snapshot', () => read(pairs(10)));
      const many = await countTransactionStatements(platform, 'meter_snapshot AS snapshot', async () => {
        const answer = await read(pairs(1000));
        expect((answer.json.ReadingData as unknown[]).length).toBe(1000);
      });
      expect(many).toBe(few);
    });
  });

  describe('ControlValve', () => {
    it('queues a valve command for 2010 (close) and 1010 (open) and leaves meter.valve_state alone', async () => {
      expect((await valve('V', 2010)).code).toBe(0);
      expect((await valve('V', '1010')).code).toBe(0);

      expect(
        await sql(
          `SELECT c.kind, c.payload, c.sequence FROM meter_command c JOIN meter m ON m.id = c.meter_id
            WHERE m.meter_id = 'V' AND c.kind = 'valve' ORDER BY c.sequence`,
        ),
      ).toEqual([
        { kind: 'valve', payload: { action: 'close' }, sequence: '2' },
        { kind: 'valve', payload: { action: 'open' }, sequence: '3' },
      ]);
      expect(await sql(`SELECT valve_state FROM meter WHERE meter_id = 'V'`)).toEqual([{ valve_state: '01' }]);
    });

    it('refuses another Control (80002003), a meter out of reach (80002024), a suspended or closed one (80002023), another user’s (80002013)', async () => {
      const other = await valve('V', 3000);
      expect(other.code).toBe(80002003);
      expect(other.message).toContain('Control');
      expect((await call('ControlValve', { UserID: 'UV', MeterID: 'V' })).code).toBe(80002003);
      expect((await valve('LOCAL', 2010)).code).toBe(80002024);
      expect((await valve('B', 2010)).code).toBe(80002023);
      expect((await valve('V', 2010, 'UA')).code).toBe(80002013);

      await call('MeterSuspend', { UserID: 'UV', MeterID: 'V' });
      expect((await valve('V', 2010)).code).toBe(80002023);
      await call('MeterResume', { UserID: 'UV', MeterID: 'V' });
    });
  });

  describe('for a tenant whose CIS bills (系统端计费)', () => {
    const SYSTEM = '系统计费燃气公司';

    beforeAll(async () => {
      await platform.createTenant({ code: 'sys', name: SYSTEM, billingMode: 'system' });
      const payload = meterAddPayload({ userId: 'USYS', meterId: 'SYS1', dataFrom: SYSTEM });
      expect((await callText('MeterAdd', payload)).code).toBe(0);
    });

    it('controls valves and reads current data, with no platform money figures', async () => {
      expect((await call('ControlValve', { UserID: 'USYS', MeterID: 'SYS1', Control: 2010, DataFrom: SYSTEM })).code).toBe(0);

      const answer = await callOperation(
        platform,
        'rest',
        'ReadCurrentData',
        JSON.stringify({ Meters: [{ UserID: 'USYS', MeterID: 'SYS1' }], DataFrom: SYSTEM }),
      );
      expect(answer.code).toBe(0);
      expect(answer.text).toContain('"TotalBuyMoney":null,"RemainMoney":null,');
    });
  });
});
