import { countRows } from '../support/row-counts';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';
import { type Transport, TRADE_TIME as TIME, callOperation, meterAddPayload, moneyCalls } from './operation-calls';

/**
 * Recharge, CancelRecharge and RemainOption (spec §5.3.8, §5.3.9, §5.3.13; DECISIONS §5.4):
 * every TradeNo credited at most once whatever the concurrency, the ledger always balancing, and
 * a recharge withdrawn only while its command has not left for the meter.
 */
const TENANT = '苍南仪表集团';

describe('money on a meter', () => {
  let platform: TestPlatform;
  const sql = <T = Record<string, unknown>>(text: string, parameters: unknown[] = []) =>
    platform.database.dataSource.query(text, parameters) as Promise<T[]>;
  const { call, recharge, cancel, remain } = moneyCalls(() => platform, () => TENANT);
  const open = async (meterId: string, extra: { preSaving?: string; model?: string; dataFrom?: string } = {}) => {
    const payload = meterAddPayload({ userId: `U${meterId}`, meterId, dataFrom: TENANT, ...extra });
    expect((await callOperation(platform, 'rest', 'MeterAdd', payload)).code).toBe(0);
  };

  beforeAll(async () => {
    platform = await startTestPlatform();
    await platform.createTenant({ code: 'cangnan', name: TENANT });
    await sql(`INSERT INTO meter_model (code, description, remote_controllable) VALUES ('CNMECH', 'no radio', false)`);
    for (const meterId of ['M1', 'M2', 'M3', 'M4', 'M5', 'M6']) await open(meterId);
    await open('LOCAL', { model: 'CNMECH' });
  });
  afterAll(() => platform.close());

  describe('Recharge', () => {
    it('credits a TradeNo once and refuses it again, here or on another meter (80002033)', async () => {
      expect((await recharge('M1', 'T-1', '100')).code).toBe(0);
      expect((await recharge('M1', 'T-1', '100')).code).toBe(80002033);
      const again = await recharge('M2', 'T-1', '7');
      expect(again.code).toBe(80002033);
      expect(again.message).toContain('T-1');
      expect(await sql(`SELECT count(*)::int AS n FROM ledger_entry WHERE trade_no = 'T-1'`)).toEqual([{ n: 1 }]);
      expect(await sql(`SELECT count(*)::int AS n FROM meter_command WHERE payload->>'tradeNo' = 'T-1'`)).toEqual([{ n: 1 }]);
    });

    it('refuses an amount of 1 or less (80002003), finer than 0.0001 or past 12 integer digits (80002002)', async () => {
      expect((await recharge('M1', 'T-small', '1')).code).toBe(80002003);
      expect((await recharge('M1', 'T-small', '0.5')).message).toContain('RechargeAmt');
      expect((await recharge('M1', 'T-fine', '1.00005')).code).toBe(80002002);
      expect((await recharge('M1', 'T-big', '1234567890123')).code).toBe(80002002);
      expect((await recharge('M1', 'T-neg', '-5')).code).toBe(80002002);
      expect(await sql(`SELECT count(*)::int AS n FROM ledger_entry WHERE trade_no LIKE 'T-%' AND trade_no <> 'T-1'`)).toEqual([{ n: 0 }]);
    });

    it('names a missing field (80002003) and refuses a bad RechargeTime (80002002)', async () => {
      const missing = await call('Recharge', { UserID: 'UM1', MeterID: 'M1', RechargeTime: TIME, RechargeAmt: 5 });
      expect(missing.code).toBe(80002003);
      expect(missing.message).toContain('TradeNo');
      const badTime = await call('Recharge', {
        UserID: 'UM1',
        MeterID: 'M1',
        TradeNo: 'T-x',
        RechargeTime: '02/10/2019',
        RechargeAmt: 5,
      });
      expect(badTime.code).toBe(80002002);
    });

    it('refuses another user’s meter (80002013), a model that cannot be reached (80002024), a suspended meter (80002023)', async () => {
      expect((await recharge('M1', 'T-who', '5', 'UM2')).code).toBe(80002013);
      expect((await recharge('NOSUCH', 'T-who', '5')).code).toBe(80002013);
      expect((await recharge('LOCAL', 'T-local', '5')).code).toBe(80002024);

      await call('MeterSuspend', { UserID: 'UM5', MeterID: 'M5' });
      expect((await recharge('M5', 'T-suspended', '5')).code).toBe(80002023);
      await call('MeterResume', { UserID: 'UM5', MeterID: 'M5' });
    });

    it('credits 50 concurrent calls with one TradeNo exactly once', async () => {
      const answers = await Promise.all(Array.from({ length: 50 }, () => recharge('M3', 'T-race', '12.3456')));

      const codes = answers.map((answer) => answer.code).sort();
      expect(codes.filter((code) => code === 0)).toHaveLength(1);
      expect(codes.filter((code) => code === 80002033)).toHaveLength(49);
      expect(await sql(`SELECT count(*)::int AS n, sum(amount)::text AS total FROM ledger_entry WHERE trade_no = 'T-race'`)).toEqual([
        { n: 1, total: '12.3456' },
      ]);
      expect(await sql(`SELECT count(*)::int AS n FROM meter_command WHERE payload->>'tradeNo' = 'T-race'`)).toEqual([{ n: 1 }]);
    });

    it('credits one TradeNo once even when 50 concurrent calls spread it over five meters', async () => {
      const meters = ['M1', 'M2', 'M3', 'M5', 'M6'];
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, index) => recharge(meters[index % 5] as string, 'T-spread', '2')),
      );

      expect(answers.filter((answer) => answer.code === 0)).toHaveLength(1);
      expect(answers.filter((answer) => answer.code === 80002033)).toHaveLength(49);
      expect(await sql(`SELECT count(*)::int AS n FROM ledger_entry WHERE trade_no = 'T-spread'`)).toEqual([{ n: 1 }]);
      expect(await sql(`SELECT count(*)::int AS n FROM meter_command WHERE payload->>'tradeNo' = 'T-spread'`)).toEqual([{ n: 1 }]);
    });

    it('lands 50 concurrent calls with different TradeNos, one command each in sequence, and the ledger balances', async () => {
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, index) => recharge('M4', `T-many-${index}`, `${index + 2}.0001`)),
      );

      expect(answers.map((answer) => answer.code)).toEqual(Array(50).fill(0));
      // 2.0001 + 3.0001 + ... + 51.0001 = 1325 + 50 × 0.0001
      expect(
        await sql(
          `SELECT count(*)::int AS n, sum(l.amount)::text AS total FROM ledger_entry l JOIN meter m ON m.id = l.meter_id
            WHERE m.meter_id = 'M4' AND l.kind = 'recharge'`,
        ),
      ).toEqual([{ n: 50, total: '1325.0050' }]);
      expect(
        await sql(
          `SELECT sum((c.payload->>'amount')::numeric)::text AS total, count(DISTINCT c.sequence)::int AS sequences,
                  max(c.sequence)::int AS last, max(m.last_command_sequence)::int AS meter_last
             FROM meter_command c JOIN meter m ON m.id = c.meter_id
            WHERE m.meter_id = 'M4' AND c.kind = 'recharge'`,
        ),
      ).toEqual([{ total: '1325.0050', sequences: 50, last: 51, meter_last: 51 }]);
      const [reading] = (await call('ReadCurrentData', { Meters: [{ UserID: 'UM4', MeterID: 'M4' }] })).text.match(
        /"TotalBuyMoney":[^,]+,"RemainMoney":[^,]+/,
      ) as RegExpMatchArray;
      expect(reading).toBe('"TotalBuyMoney":1325.0050,"RemainMoney":1325.0050');
    });
  });

  describe('CancelRecharge', () => {
    it('withdraws a queued recharge, and refuses to withdraw it twice (80002027)', async () => {
      expect((await recharge('M2', 'C-1', '80.5')).code).toBe(0);
      expect((await cancel('M2', 'C-1', '80.5000')).code).toBe(0);

      expect(
        await sql(
          `SELECT c.state, r.amount AS recharged, x.amount AS cancelled, x.trade_no
             FROM ledger_entry r JOIN meter_command c ON c.id = r.command_id
             JOIN ledger_entry x ON x.cancels_entry_id = r.id
            WHERE r.trade_no = 'C-1' AND r.kind = 'recharge'`,
        ),
      ).toEqual([{ state: 'cancelled', recharged: '80.5000', cancelled: '-80.5000', trade_no: 'C-1' }]);
      const second = await cancel('M2', 'C-1', '80.5');
      expect(second.code).toBe(80002027);
      expect(second.message).toContain('已取消');
    });

    it('refuses once the meter link has sent the command (80002027) and changes nothing', async () => {
      expect((await recharge('M2', 'C-2', '30')).code).toBe(0);
      await sql(
        `UPDATE meter_command SET state = 'sent', sent_at = now()
          WHERE id = (SELECT command_id FROM ledger_entry WHERE trade_no = 'C-2')`,
      );

      const answer = await cancel('M2', 'C-2', '30');
      expect(answer.code).toBe(80002027);
      expect(answer.message).toContain('已下发');
      expect(await sql(`SELECT count(*)::int AS n FROM ledger_entry WHERE trade_no = 'C-2'`)).toEqual([{ n: 1 }]);
    });

    it('refuses an amount that differs from the recharge (80002027) and cancels nothing', async () => {
      expect((await recharge('M2', 'C-3', '30')).code).toBe(0);

      const answer = await cancel('M2', 'C-3', '30.0001');
      expect(answer.code).toBe(80002027);
      expect(answer.message).toContain('CancelAmt');
      expect(await sql(`SELECT state FROM meter_command WHERE id = (SELECT command_id FROM ledger_entry WHERE trade_no = 'C-3')`)).toEqual([
        { state: 'queued' },
      ]);
    });

    it('answers 80002037 for a TradeNo that is unknown, another meter’s, or not a recharge', async () => {
      expect((await cancel('M2', 'NEVER', '30')).code).toBe(80002037);
      expect((await cancel('M2', 'T-1', '100')).code).toBe(80002037);
      expect((await remain('M2', 'R-not-a-recharge', 1000, '5')).code).toBe(0);
      expect((await cancel('M2', 'R-not-a-recharge', '5')).code).toBe(80002037);
    });
  });

  describe('RemainOption', () => {
    it('returns money with 1000 and deducts it with 2000, each a signed ledger entry and a command', async () => {
      expect((await remain('M5', 'R-1', 1000, '20.25')).code).toBe(0);
      expect((await remain('M5', 'R-2', '2000', 5)).code).toBe(0);

      expect(
        await sql(
          `SELECT l.kind, l.amount, c.payload FROM ledger_entry l JOIN meter_command c ON c.id = l.command_id
            WHERE l.trade_no IN ('R-1', 'R-2') ORDER BY l.id`,
        ),
      ).toEqual([
        { kind: 'refund', amount: '20.2500', payload: { option: 1000, amount: '20.2500', tradeNo: 'R-1' } },
        { kind: 'deduct', amount: '-5.0000', payload: { option: 2000, amount: '5.0000', tradeNo: 'R-2' } },
      ]);
    });

    it('refuses a TradeNo used before by RemainOption or Recharge (80002036), and Recharge refuses its TradeNo (80002033)', async () => {
      expect((await remain('M5', 'R-1', 1000, '1')).code).toBe(80002036);
      expect((await remain('M5', 'T-1', 2000, '1')).code).toBe(80002036);
      expect((await recharge('M5', 'R-2', '10')).code).toBe(80002033);
    });

    it('refuses an unknown CMDOption or a zero amount (80002003)', async () => {
      const option = await remain('M5', 'R-3', 3000, '1');
      expect(option.code).toBe(80002003);
      expect(option.message).toContain('CMDOption');
      expect((await remain('M5', 'R-3', 1000, '0')).code).toBe(80002003);
    });
  });

  describe('what the ledger adds up to (DECISIONS §4: NUMBER(16,4), at most 12 integer digits)', () => {
    const MAX = '999999999999.9999';
    /** A payload whose `key` is the JSON number token `token`, which a JS number would round. */
    const withNumber = (fields: Record<string, unknown>, key: string, token: string) =>
      JSON.stringify({ DataFrom: TENANT, ...fields }).replace(/}$/, `,"${key}":${token}}`);
    const rechargeOver = (transport: Transport, meterId: string, tradeNo: string, amountToken: string) =>
      callOperation(
        platform,
        transport,
        'Recharge',
        withNumber({ UserID: `U${meterId}`, MeterID: meterId, TradeNo: tradeNo, RechargeTime: TIME }, 'RechargeAmt', amountToken),
      );
    const figures = async (meterId: string) => {
      const answer = await call('ReadCurrentData', { Meters: [{ UserID: `U${meterId}`, MeterID: meterId }] });
      return answer.text.match(/"TotalBuyMoney":[^,]+,"RemainMoney":[^,]+/)?.[0];
    };
    /** Everything a refused call must leave as it was: every table's rows, meters and commands. */
    const stored = async () => ({
      rows: await countRows(platform.database.dataSource),
      meters: await sql(`SELECT id, state, last_command_sequence FROM meter ORDER BY id`),
      commands: await sql(`SELECT id, state FROM meter_command ORDER BY id`),
    });

    it.each<Transport>(['rest', 'soap'])(
      'refuses over %s a recharge that would take TotalBuyMoney to 13 integer digits (80002002) and stores nothing',
      async (transport) => {
        const meterId = `FULL-${transport}`;
        await open(meterId);
        expect((await rechargeOver(transport, meterId, `${meterId}-1`, MAX)).code).toBe(0);
        const before = await stored();

        const answer = await rechargeOver(transport, meterId, `${meterId}-2`, '2006.5');

        expect(answer.code).toBe(80002002);
        expect(answer.message).toContain(`${meterId} 的 TotalBuyMoney 变为 1000000002006.4999`);
        expect(answer.message).toContain('RechargeAmt');
        expect(await stored()).toEqual(before);
        expect(await figures(meterId)).toBe(`"TotalBuyMoney":${MAX},"RemainMoney":${MAX}`);
      },
    );

    it('answers a TradeNo used before as a duplicate (80002033, 80002036) even when the amount would also overflow', async () => {
      expect((await recharge('FULL-rest', 'FULL-rest-1', '2006.5')).code).toBe(80002033);
      expect((await remain('FULL-rest', 'FULL-rest-1', 1000, '2006.5')).code).toBe(80002036);
    });

    it('takes money up to 999999999999.9999 exactly, from a PreSaving and a 返充, and refuses 0.0001 more', async () => {
      await open('TOP', { preSaving: '999999999990' });
      expect((await remain('TOP', 'TOP-1', 1000, '9.9999')).code).toBe(0);
      expect(await figures('TOP')).toBe(`"TotalBuyMoney":${MAX},"RemainMoney":${MAX}`);
      const before = await stored();

      const refund = await remain('TOP', 'TOP-2', 1000, '0.0001');
      const recharged = await recharge('TOP', 'TOP-3', '2');

      expect([refund.code, recharged.code]).toEqual([80002002, 80002002]);
      expect(refund.message).toContain('OptionAmt');
      expect(await stored()).toEqual(before);
    });

    it('refuses a 补扣 that would take both figures below -999999999999.9999 (80002002), leaving its TradeNo unused', async () => {
      await open('DEDUCT');
      expect((await remain('DEDUCT', 'D-1', 2000, MAX)).code).toBe(0);
      expect(await figures('DEDUCT')).toBe(`"TotalBuyMoney":-${MAX},"RemainMoney":-${MAX}`);
      const before = await stored();

      for (const tradeNo of ['D-2', 'D-3']) {
        const answer = await remain('DEDUCT', tradeNo, '2000', MAX);
        expect(answer.code).toBe(80002002);
        expect(answer.message).toContain('DEDUCT 的 TotalBuyMoney 变为 -1999999999999.9998');
      }
      expect(await stored()).toEqual(before);
      expect(await figures('DEDUCT')).toBe(`"TotalBuyMoney":-${MAX},"RemainMoney":-${MAX}`);

      expect((await remain('DEDUCT', 'D-2', 1000, MAX)).code).toBe(0);
      expect(await figures('DEDUCT')).toBe('"TotalBuyMoney":0.0000,"RemainMoney":0.0000');
    });

    it('refuses a cancellation that would take TotalBuyMoney out of range (80002002) and leaves the recharge queued', async () => {
      await open('UNDO');
      expect((await recharge('UNDO', 'UNDO-1', MAX)).code).toBe(0);
      expect((await remain('UNDO', 'UNDO-2', 2000, MAX)).code).toBe(0);
      expect((await remain('UNDO', 'UNDO-3', 2000, MAX)).code).toBe(0);
      const before = await stored();

      const answer = await cancel('UNDO', 'UNDO-1', MAX);

      expect(answer.code).toBe(80002002);
      expect(answer.message).toContain('CancelAmt');
      expect(answer.message).toContain('UNDO 的 TotalBuyMoney 变为 -1999999999999.9998');
      expect(await stored()).toEqual(before);
      const recharged = await sql(
        `SELECT c.state FROM meter_command c JOIN ledger_entry l ON l.command_id = c.id WHERE l.trade_no = 'UNDO-1'`,
      );
      expect(recharged).toEqual([{ state: 'queued' }]);
      expect(await figures('UNDO')).toBe(`"TotalBuyMoney":-${MAX},"RemainMoney":-${MAX}`);
    });
  });

  describe('the ledger', () => {
    it('agrees with the queued money commands on every meter', async () => {
      // Each money entry that reached the meter queue carries the amount its command carries, with
      // the entry's sign; a cancelled recharge nets to zero on both sides.
      const disagreements = await sql(
        `SELECT l.id FROM ledger_entry l JOIN meter_command c ON c.id = l.command_id
          WHERE l.kind IN ('recharge', 'refund', 'deduct', 'opening')
            AND abs(l.amount) <> (c.payload->>'amount')::numeric`,
      );
      expect(disagreements).toEqual([]);
      const balances = await sql<{ meter_id: string; ledger: string; queued: string }>(
        `SELECT m.meter_id,
                coalesce(sum(l.amount), 0)::text AS ledger,
                coalesce(sum(CASE WHEN c.state = 'cancelled' THEN 0
                                  WHEN c.kind = 'remain_option' AND c.payload->>'option' = '2000'
                                    THEN -(c.payload->>'amount')::numeric
                                  ELSE (c.payload->>'amount')::numeric END), 0)::text AS queued
           FROM meter m
           LEFT JOIN meter_command c ON c.meter_id = m.id AND c.kind IN ('recharge', 'remain_option')
           LEFT JOIN ledger_entry l ON l.command_id = c.id
          GROUP BY m.meter_id ORDER BY m.meter_id`,
      );
      for (const row of balances) expect(row.ledger).toBe(row.queued);
    });
  });

  describe('for a tenant whose CIS bills (系统端计费)', () => {
    const SYSTEM = '系统计费燃气公司';

    beforeAll(async () => {
      await platform.createTenant({ code: 'sys', name: SYSTEM, billingMode: 'system' });
      const payload = meterAddPayload({ userId: 'USYS', meterId: 'SYS1', dataFrom: SYSTEM });
      expect((await callOperation(platform, 'rest', 'MeterAdd', payload)).code).toBe(0);
    });

    it('refuses Recharge, CancelRecharge and RemainOption with 80002003, saying why', async () => {
      const pair = { UserID: 'USYS', MeterID: 'SYS1', DataFrom: SYSTEM };
      const answers = await Promise.all([
        call('Recharge', { ...pair, TradeNo: 'S-1', RechargeTime: '2019-10-02 12:34:22', RechargeAmt: 50 }),
        call('CancelRecharge', { ...pair, TradeNo: 'S-1', CancelTime: '2019-10-02 12:34:22', CancelAmt: 50 }),
        call('RemainOption', { ...pair, TradeNo: 'S-2', CMDOption: 1000, OptionTime: '2019-10-02 12:34:22', OptionAmt: 50 }),
      ]);

      for (const answer of answers) {
        expect(answer.code).toBe(80002003);
        expect(answer.message).toContain('系统端计费');
      }
      expect(await sql(`SELECT count(*)::int AS n FROM ledger_entry l JOIN tenant t ON t.id = l.tenant_id WHERE t.code = 'sys'`)).toEqual([
        { n: 0 },
      ]);
    });
  });
});
