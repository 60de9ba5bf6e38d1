import { SPEC_EXAMPLES } from '../fixtures/spec-examples';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';
import { callOperation, meterAddPayload, type Transport } from './operation-calls';

/**
 * spec §5.3.6 to §5.3.13: the request examples of the eight operations, sent verbatim over REST
 * and SOAP, against a real platform and database.
 *
 * The examples cannot all succeed for one tenant: RemainOption reuses Recharge's TradeNo (unique
 * per tenant, DECISIONS §5.4) and MeterChange's new meter 012345678919 is BatchChangePrice's
 * second meter. So RemainOption and MeterChange run for a second tenant of the same name, once
 * the first is renamed out of the way.
 */
const CANGNAN = '苍南仪表集团';
const SUCCESS = { code: 0, message: '接口功能执行成功' };

describe.each<Transport>(['rest', 'soap'])('the spec examples of §5.3.6 to §5.3.13 over %s', (transport) => {
  let platform: TestPlatform;
  const call = (operation: keyof typeof SPEC_EXAMPLES, payload = SPEC_EXAMPLES[operation]) =>
    callOperation(platform, transport, operation, payload);
  const sql = <T = Record<string, unknown>>(text: string, parameters: unknown[] = []) =>
    platform.database.dataSource.query(text, parameters) as Promise<T[]>;

  beforeAll(async () => {
    platform = await startTestPlatform();
    await platform.createTenant({ code: 'cangnan', name: CANGNAN });
  });
  afterAll(() => platform.close());

  describe('reading, recharge, cancellation, prices and valve on the example accounts', () => {
    beforeAll(async () => {
      expect((await call('MeterAdd')).code).toBe(0);
      for (const [userId, meterId] of [['KYNYN144866', '012345678916'], ['KYNYN144869', '012345678919']]) {
        const payload = meterAddPayload({ userId: userId as string, meterId: meterId as string, dataFrom: CANGNAN });
        expect((await call('MeterAdd', payload)).code).toBe(0);
      }
    });

    it('ReadCurrentData answers both meters with every field of §5.3.7, from the opening before any report', async () => {
      const answer = await call('ReadCurrentData');

      expect(answer.code).toBe(0);
      const [opened] = await sql<{ read_time: string }>(
        `SELECT to_char(opened_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS') AS read_time
           FROM meter WHERE meter_id = '012345678912'`,
      );
      expect(answer.text).toContain(
        `{"UserID":"KYNYN144860","MeterID":"012345678912","ReadTime":"${opened?.read_time}",` +
          '"Reading":0.0000,"ValveState":"01","Temperature":null,"Pressure":null,' +
          '"TotalBuyMoney":1000.0000,"RemainMoney":1000.0000,"TotalUsedGas":null,"TotalUsedMoney":null,' +
          '"Price":1.2000,"MeterState":0}',
      );
      expect((answer.json.ReadingData as Array<{ MeterID: string }>).map((data) => data.MeterID)).toEqual([
        '012345678912',
        '012345678916',
      ]);
    });

    it('Recharge credits the example’s "50000" and queues a recharge command for the meter', async () => {
      expect(await call('Recharge')).toMatchObject(SUCCESS);

      expect(await sql(`SELECT kind, trade_no, amount FROM ledger_entry WHERE kind = 'recharge'`)).toEqual([
        { kind: 'recharge', trade_no: 'CNMCSPKYNYN20191002123422', amount: '50000.0000' },
      ]);
      expect(await sql(`SELECT payload, state FROM meter_command WHERE kind = 'recharge' ORDER BY id DESC LIMIT 1`)).toEqual([
        {
          payload: { amount: '50000.0000', tradeNo: 'CNMCSPKYNYN20191002123422', reason: 'recharge' },
          state: 'queued',
        },
      ]);
    });

    it('CancelRecharge withdraws that recharge while its command is still queued', async () => {
      expect(await call('CancelRecharge')).toMatchObject(SUCCESS);

      expect(await sql(`SELECT state FROM meter_command WHERE kind = 'recharge' ORDER BY id DESC LIMIT 1`)).toEqual([
        { state: 'cancelled' },
      ]);
      expect(await sql(`SELECT kind, amount FROM ledger_entry WHERE kind = 'recharge_cancel'`)).toEqual([
        { kind: 'recharge_cancel', amount: '-50000.0000' },
      ]);
    });

    it('ChangePrice re-prices the meter and queues the scheme for it', async () => {
      expect(await call('ChangePrice')).toMatchObject(SUCCESS);

      const [command] = await sql<{ payload: Record<string, unknown> }>(
        `SELECT c.payload FROM meter_command c JOIN meter m ON m.id = c.meter_id
          WHERE m.meter_id = '012345678912' AND c.kind = 'price_change'`,
      );
      expect(command?.payload).toMatchObject({ priceId: '5021', version: '309', priceMode: 101, price1: '1.2000' });
      expect(await sql(`SELECT price_changed_at IS NOT NULL AS dated FROM meter WHERE meter_id = '012345678912'`)).toEqual([
        { dated: true },
      ]);
    });

    it('BatchChangePrice re-prices both meters of the example', async () => {
      expect(await call('BatchChangePrice')).toMatchObject(SUCCESS);

      expect(
        await sql(
          `SELECT m.meter_id, count(*)::int AS price_changes FROM meter_command c JOIN meter m ON m.id = c.meter_id
            WHERE c.kind = 'price_change' GROUP BY m.meter_id ORDER BY m.meter_id`,
        ),
      ).toEqual([
        { meter_id: '012345678912', price_changes: 2 },
        { meter_id: '012345678919', price_changes: 1 },
      ]);
    });

    it('ControlValve queues the closing of the valve (2010) and leaves the valve state to the meter', async () => {
      expect(await call('ControlValve')).toMatchObject(SUCCESS);

      expect(await sql(`SELECT kind, payload FROM meter_command ORDER BY id DESC LIMIT 1`)).toEqual([
        { kind: 'valve', payload: { action: 'close' } },
      ]);
      expect(await sql(`SELECT valve_state FROM meter WHERE meter_id = '012345678912'`)).toEqual([{ valve_state: '01' }]);
    });
  });

  describe('RemainOption and MeterChange, for a tenant of their own', () => {
    beforeAll(async () => {
      await sql(`UPDATE tenant SET name = '苍南仪表集团（前一组例子）', status = 'disabled' WHERE code = 'cangnan'`);
      await platform.createTenant({ code: 'cangnan2', name: CANGNAN });
      expect((await call('MeterAdd')).code).toBe(0);
    });

    it('RemainOption 1000 returns the example’s 50000 to the meter', async () => {
      expect(await call('RemainOption')).toMatchObject(SUCCESS);

      const [entry] = await sql(
        `SELECT l.kind, l.amount, c.kind AS command, c.payload FROM ledger_entry l
           JOIN meter_command c ON c.id = l.command_id JOIN tenant t ON t.id = l.tenant_id
          WHERE t.code = 'cangnan2' AND l.trade_no = 'CNMCSPKYNYN20191002123422'`,
      );
      expect(entry).toEqual({
        kind: 'refund',
        amount: '50000.0000',
        command: 'remain_option',
        payload: { option: 1000, amount: '50000.0000', tradeNo: 'CNMCSPKYNYN20191002123422' },
      });
    });

    it('MeterChange replaces meter 012345678912 by 012345678919 and moves the 1500 of PreSaving', async () => {
      expect(await call('MeterChange')).toMatchObject(SUCCESS);

      const meters = await sql(
        `SELECT m.meter_id, m.state, m.end_reading, r.meter_id AS replaced_by, c.user_id
           FROM meter m JOIN customer c ON c.id = m.customer_id JOIN tenant t ON t.id = m.tenant_id
           LEFT JOIN meter r ON r.id = m.replaced_by
          WHERE t.code = 'cangnan2' ORDER BY m.id`,
      );
      expect(meters).toEqual([
        { meter_id: '012345678912', state: -2, end_reading: '8680.5000', replaced_by: '012345678919', user_id: 'KYNYN144860' },
        { meter_id: '012345678919', state: 0, end_reading: null, replaced_by: null, user_id: 'KYNYN144860' },
      ]);
      const transfers = await sql(
        `SELECT m.meter_id, l.kind, l.amount FROM ledger_entry l JOIN meter m ON m.id = l.meter_id
          WHERE l.kind LIKE 'transfer%' ORDER BY l.id`,
      );
      expect(transfers).toEqual([
        { meter_id: '012345678912', kind: 'transfer_out', amount: '-1500.0000' },
        { meter_id: '012345678919', kind: 'transfer_in', amount: '1500.0000' },
      ]);
    });
  });
});
