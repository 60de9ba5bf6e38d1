import type { Tenant } from '../../src/domain/model';
import { moneyCalls } from '../operations/operation-calls';
import { deviceCall, openAccount, QUICK_RETRIES, report, reportTimes, startLinkedTenant } from '../support/meter-link';
import type { TestPlatform } from '../support/test-platform';

/**
 * Money the meter never got: a recharge, a MeterAdd PreSaving or a RemainOption whose command is
 * rejected by the meter, runs out of attempts or expires is reversed in the ledger in the same
 * transaction, so ReadCurrentData stops counting it, and CancelRecharge tells the CIS the
 * recharge failed (80002030) instead of pretending it reached the meter.
 */
describe('money the meter never got', () => {
  let platform: TestPlatform;
  let tenant: Tenant;
  let token: string;
  const nextReadAt = reportTimes();

  beforeAll(async () => {
    ({ platform, tenant, token } = await startLinkedTenant(QUICK_RETRIES));
  });
  afterAll(() => platform.close());

  const sql = <T = Record<string, unknown>>(text: string, parameters: unknown[] = []) =>
    platform.database.dataSource.query(text, parameters) as Promise<T[]>;
  const { call, recharge, cancel, remain } = moneyCalls(() => platform, () => tenant.name);
  /**
   * TotalBuyMoney and RemainMoney as ReadCurrentData answers them, exactly as sent, and the
   * ledger balance. RemainMoney is the ledger balance only until the meter reports its own (a
   * report without one answers null).
   */
  const money = async (meterId: string) => {
    const answer = await call('ReadCurrentData', { Meters: [{ UserID: `U${meterId}`, MeterID: meterId }] });
    expect(answer.code).toBe(0);
    const [ledger] = await sql<{ balance: string }>(
      `SELECT coalesce(sum(e.amount), 0)::numeric(16,4)::text AS balance
         FROM ledger_entry e JOIN meter m ON m.id = e.meter_id WHERE m.meter_no = $1`,
      [meterId],
    );
    return {
      totalBuyMoney: /"TotalBuyMoney":(-?[\d.]+|null)/.exec(answer.text)?.[1],
      remainMoney: /"RemainMoney":(-?[\d.]+|null)/.exec(answer.text)?.[1],
      balance: ledger?.balance,
    };
  };
  const uplink = (meterNo: string) =>
    deviceCall(platform.url, token, 'uplink', { reports: [report(meterNo, nextReadAt())] });
  const ack = (meterNo: string, sequence: string, result = 'applied', message?: string) =>
    deviceCall(platform.url, token, 'ack', { acks: [{ meterNo, sequence, result, message }] });
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const reversals = (meterNo: string) =>
    sql(
      `SELECT reversal.amount::text AS amount, reversal.trade_no AS "tradeNo", original.kind AS reverses,
              c.state AS "commandState"
         FROM ledger_entry AS reversal
         JOIN ledger_entry AS original ON original.id = reversal.cancels_entry_id
         JOIN meter_command AS c ON c.id = reversal.command_id
         JOIN meter AS m ON m.id = reversal.meter_id
        WHERE m.meter_no = $1 AND reversal.kind = 'reversal' ORDER BY reversal.id`,
      [meterNo],
    );
  const resultMessage = async (meterNo: string, sequence: number) => {
    const [row] = await sql<{ result_message: string }>(
      `SELECT c.result_message FROM meter_command c JOIN meter m ON m.id = c.meter_id
        WHERE m.meter_no = $1 AND c.sequence = $2`,
      [meterNo, sequence],
    );
    return row?.result_message;
  };
  /** An opened meter whose open_account command (sequence 1) the meter has applied. */
  const openedMeter = async (meterNo: string) => {
    await openAccount(platform, tenant, meterNo);
    expect((await uplink(meterNo)).body.commands).toMatchObject([{ sequence: '1', kind: 'open_account' }]);
    await ack(meterNo, '1');
  };

  it('reverses a recharge the meter rejects, and CancelRecharge answers 80002030', async () => {
    await openedMeter('R1');
    expect((await recharge('R1', 'TO1', '9.9999')).code).toBe(0);
    expect(await money('R1')).toMatchObject({ totalBuyMoney: '9.9999', balance: '9.9999' });

    expect((await uplink('R1')).body.commands).toMatchObject([{ sequence: '2', kind: 'recharge' }]);
    expect((await ack('R1', '2', 'rejected', 'card locked')).body.results).toMatchObject([{ status: 'failed' }]);

    expect(await money('R1')).toMatchObject({ totalBuyMoney: '0.0000', balance: '0.0000' });
    expect(await reversals('R1')).toEqual([
      { amount: '-9.9999', tradeNo: 'TO1', reverses: 'recharge', commandState: 'failed' },
    ]);
    expect(await resultMessage('R1', 2)).toMatch(/^rejected by the meter: card locked; ledger entry \d+ reversed by entry \d+ \(-9\.9999\)$/);

    const cancelled = await cancel('R1', 'TO1', '9.9999');
    expect(cancelled.code).toBe(80002030);
    expect(cancelled.message).toContain('TO1');
    expect(cancelled.message).toContain('已冲正');
    expect((await recharge('R1', 'TO1', '9.9999')).code).toBe(80002033);
    expect(await sql(`SELECT count(*)::int AS n FROM ledger_entry WHERE trade_no = 'TO1'`)).toEqual([{ n: 2 }]);
  });

  it('reverses a recharge that expired before the meter woke up, at the sweep', async () => {
    // Never woken up: RemainMoney is still the ledger balance.
    await openAccount(platform, tenant, 'R2');
    expect((await recharge('R2', 'T-EXP', '50')).code).toBe(0);
    expect(await money('R2')).toEqual({ totalBuyMoney: '50.0000', remainMoney: '50.0000', balance: '50.0000' });
    await sql(
      `UPDATE meter_command SET expires_at = now() - interval '1 second'
        WHERE meter_id = (SELECT id FROM meter WHERE meter_no = 'R2') AND sequence = 2`,
    );

    await platform.meterLink.sweep();

    expect(await reversals('R2')).toEqual([
      { amount: '-50.0000', tradeNo: 'T-EXP', reverses: 'recharge', commandState: 'expired' },
    ]);
    expect(await money('R2')).toEqual({ totalBuyMoney: '0.0000', remainMoney: '0.0000', balance: '0.0000' });
    expect((await cancel('R2', 'T-EXP', '50')).code).toBe(80002030);
    expect((await recharge('R2', 'T-EXP', '50')).code).toBe(80002033);
    // When the meter does wake up, it gets its opening and nothing of the expired recharge.
    expect((await uplink('R2')).body.commands).toMatchObject([{ sequence: '1', kind: 'open_account' }]);
    expect((await ack('R2', '1')).body.commands).toEqual([]);
  });

  it('leaves a recharge the meter applied untouched', async () => {
    await openedMeter('R3');
    expect((await recharge('R3', 'T-OK', '20')).code).toBe(0);
    expect((await uplink('R3')).body.commands).toMatchObject([{ sequence: '2', kind: 'recharge' }]);
    expect((await ack('R3', '2')).body.results).toMatchObject([{ status: 'succeeded' }]);
    await platform.meterLink.sweep();

    expect(await reversals('R3')).toEqual([]);
    expect((await money('R3')).totalBuyMoney).toBe('20.0000');
    expect((await cancel('R3', 'T-OK', '20')).code).toBe(80002027);
  });

  it('reverses a 补扣 that ran out of attempts and a 返充 the meter rejected, by their signed amounts', async () => {
    await openedMeter('R4');
    expect((await recharge('R4', 'T-R4', '100')).code).toBe(0);
    expect((await uplink('R4')).body.commands).toMatchObject([{ sequence: '2' }]);
    await ack('R4', '2');
    expect((await remain('R4', 'T-DEDUCT', 2000, '30')).code).toBe(0);
    expect((await remain('R4', 'T-REFUND', 1000, '7.5')).code).toBe(0);
    expect((await money('R4')).totalBuyMoney).toBe('77.5000');

    // The deduction goes out twice unanswered; the wake-up after the second timeout fails it and
    // hands out the refund, which the meter rejects.
    expect((await uplink('R4')).body.commands).toMatchObject([{ sequence: '3', attempt: 1 }]);
    await pause(1100);
    expect((await uplink('R4')).body.commands).toMatchObject([{ sequence: '3', attempt: 2 }]);
    await pause(1100);
    expect((await uplink('R4')).body.commands).toMatchObject([{ sequence: '4', kind: 'remain_option' }]);
    await ack('R4', '4', 'rejected');

    expect(await reversals('R4')).toEqual([
      { amount: '30.0000', tradeNo: 'T-DEDUCT', reverses: 'deduct', commandState: 'failed' },
      { amount: '-7.5000', tradeNo: 'T-REFUND', reverses: 'refund', commandState: 'failed' },
    ]);
    expect(await money('R4')).toMatchObject({ totalBuyMoney: '100.0000', balance: '100.0000' });
    expect((await remain('R4', 'T-DEDUCT', 2000, '30')).code).toBe(80002036);
  });

  it("reverses a MeterAdd PreSaving whose recharge the meter rejected", async () => {
    await openAccount(platform, tenant, 'R5', { preSaving: '12.3400' });
    expect((await uplink('R5')).body.commands).toMatchObject([{ sequence: '1', kind: 'open_account' }]);
    expect((await ack('R5', '1')).body.commands).toMatchObject([{ sequence: '2', payload: { reason: 'opening' } }]);
    await ack('R5', '2', 'rejected');

    expect(await reversals('R5')).toEqual([
      { amount: '-12.3400', tradeNo: null, reverses: 'opening', commandState: 'failed' },
    ]);
    expect(await money('R5')).toMatchObject({ totalBuyMoney: '0.0000', balance: '0.0000' });
  });

  it('refuses a reversal that is not the exact opposite of a failed command’s entry', async () => {
    const [entry] = await sql<{ id: string; meter_id: string; customer_id: string; tenant_id: number; command_id: string }>(
      `SELECT e.* FROM ledger_entry e JOIN meter m ON m.id = e.meter_id
        WHERE m.meter_no = 'R3' AND e.kind = 'recharge'`,
    );
    const insert = (amount: string) =>
      sql(
        `INSERT INTO ledger_entry (tenant_id, meter_id, customer_id, kind, amount, occurred_at, command_id, cancels_entry_id)
         VALUES ($1, $2, $3, 'reversal', $4, now(), $5, $6)`,
        [entry?.tenant_id, entry?.meter_id, entry?.customer_id, amount, entry?.command_id, entry?.id],
      );
    // R3's recharge succeeded: nothing of it may be reversed, whatever the amount.
    await expect(insert('-20')).rejects.toThrow(/not the exact reversal/);
    await expect(insert('-19')).rejects.toThrow(/not the exact reversal/);
  });
});
