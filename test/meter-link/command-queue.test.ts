import { randomUUID } from 'node:crypto';
import type { Tenant } from '../../src/domain/model';
import { deviceCall, openAccount, QUICK_RETRIES, report, reportTimes, startLinkedTenant } from '../support/meter-link';
import type { TestPlatform } from '../support/test-platform';

/**
 * The command queue's rules, through the device API on a real database: re-send after the
 * acknowledgement timeout, failure after the last attempt, expiry, the valve in flight, the
 * compare-and-set with CancelRecharge, the start-up sweep of orphaned sends, and concurrent
 * wake-ups of one meter.
 */
describe('command queue', () => {
  let platform: TestPlatform;
  let tenant: Tenant;
  let token: string;
  const nextReadAt = reportTimes();

  beforeAll(async () => {
    ({ platform, tenant, token } = await startLinkedTenant(QUICK_RETRIES));
  });
  afterAll(() => platform.close());

  const query = (sql: string, parameters: unknown[] = []) => platform.database.dataSource.query(sql, parameters);
  const uplink = (meterNo: string, extra: Record<string, unknown> = {}) =>
    deviceCall(platform.url, token, 'uplink', { reports: [report(meterNo, nextReadAt(), extra)] });
  const ack = (meterNo: string, sequence: string, result = 'applied', message?: string) =>
    deviceCall(platform.url, token, 'ack', { acks: [{ meterNo, sequence, result, message }] });
  const history = async (meterNo: string, sequence: number) =>
    (
      await query(
        `SELECT e.state, e.attempts, e.detail FROM meter_command_event e
           JOIN meter_command c ON c.id = e.command_id JOIN meter m ON m.id = c.meter_id
          WHERE m.meter_no = $1 AND c.sequence = $2 ORDER BY e.id`,
        [meterNo, sequence],
      )
    ).map((event: { state: string; attempts: number; detail: string | null }) => `${event.state}/${event.attempts}/${event.detail ?? ''}`);
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const command = async (meterNo: string, kind: string, payload: unknown) => {
    const [meter] = await query(`SELECT id FROM meter WHERE meter_no = $1`, [meterNo]);
    await platform.database.dataSource.transaction(async (manager) => {
      const [[row]] = await manager.query(
        `UPDATE meter SET last_command_sequence = last_command_sequence + 1 WHERE id = $1 RETURNING last_command_sequence`,
        [meter.id],
      );
      await manager.query(
        `INSERT INTO meter_command (tenant_id, meter_id, sequence, kind, payload, correlation_id)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [tenant.id, meter.id, row.last_command_sequence, kind, JSON.stringify(payload), `test-${kind}`],
      );
    });
  };

  it('sends an unacknowledged command again after the timeout, then fails it after the last attempt', async () => {
    await openAccount(platform, tenant, 'Q1');
    await command('Q1', 'valve', { action: 'close' });

    expect((await uplink('Q1')).body.commands).toMatchObject([{ sequence: '1', attempt: 1 }]);
    expect((await uplink('Q1')).body.commands).toEqual([]);
    await pause(1100);
    expect((await uplink('Q1')).body.commands).toMatchObject([{ sequence: '1', attempt: 2 }]);
    await pause(1100);
    // Out of attempts: failed, and the meter's next command goes out in the same answer.
    expect((await uplink('Q1')).body.commands).toMatchObject([{ sequence: '2', kind: 'valve', attempt: 1 }]);

    expect(await history('Q1', 1)).toEqual([
      'queued/0/',
      'sent/1/sent, attempt 1 of 2',
      'sent/2/sent, attempt 2 of 2',
      'failed/2/no acknowledgement after 2 attempts',
    ]);
    expect(await ack('Q1', '1')).toMatchObject({ body: { results: [{ status: 'ignored' }] } });
  });

  it("shows the valve as moving (10) while a valve command is in flight, then the acknowledged state", async () => {
    expect(await query(`SELECT valve_state FROM meter WHERE meter_no = 'Q1'`)).toEqual([{ valve_state: '10' }]);
    // A report while the command is in flight does not end it.
    await uplink('Q1', { valveState: '01' });
    expect(await query(`SELECT valve_state FROM meter WHERE meter_no = 'Q1'`)).toEqual([{ valve_state: '10' }]);

    expect((await ack('Q1', '2')).body.results).toEqual([{ meterNo: 'Q1', sequence: '2', status: 'succeeded' }]);
    expect(await query(`SELECT valve_state FROM meter WHERE meter_no = 'Q1'`)).toEqual([{ valve_state: '00' }]);
    // Newer reports win again once nothing is in flight.
    await uplink('Q1', { valveState: '01' });
    expect(await query(`SELECT valve_state FROM meter WHERE meter_no = 'Q1'`)).toEqual([{ valve_state: '01' }]);
  });

  it('fails a command the meter rejects, and puts the valve back to what the meter last reported', async () => {
    await command('Q1', 'valve', { action: 'close' });
    expect((await uplink('Q1')).body.commands).toMatchObject([{ sequence: '3' }]);
    expect((await ack('Q1', '3', 'rejected', '阀门故障')).body.results).toMatchObject([{ status: 'failed' }]);
    expect(await query(`SELECT valve_state FROM meter WHERE meter_no = 'Q1'`)).toEqual([{ valve_state: '01' }]);
    expect(await history('Q1', 3)).toContain('failed/1/rejected by the meter: 阀门故障');
  });

  it('expires a queued command older than its kind allows, and delivers the next one', async () => {
    await command('Q1', 'valve', { action: 'close' });
    await command('Q1', 'valve', { action: 'open' });
    await query(`UPDATE meter_command SET created_at = now() - interval '25 hours' WHERE sequence = 4 AND kind = 'valve'`);

    expect((await uplink('Q1')).body.commands).toMatchObject([{ sequence: '5', payload: { action: 'open' } }]);
    expect(await history('Q1', 4)).toEqual(['queued/0/', 'expired/0/expired before it could be delivered']);
    await ack('Q1', '5');
  });

  it('never sends a command that CancelRecharge cancelled, and never cancels one that was sent', async () => {
    await command('Q1', 'recharge', { amount: '10.0000', tradeNo: 'T1', reason: 'recharge' });
    await command('Q1', 'recharge', { amount: '20.0000', tradeNo: 'T2', reason: 'recharge' });
    const cancel = (sequence: number) =>
      query(
        `UPDATE meter_command SET state = 'cancelled', finished_at = now()
          WHERE id = (SELECT id FROM meter_command WHERE sequence = $1 AND meter_id = (SELECT id FROM meter WHERE meter_no = 'Q1'))
            AND state = 'queued'`,
        [sequence],
      );
    const [, cancelledFirst] = await cancel(6);
    expect(cancelledFirst).toBe(1);
    expect((await uplink('Q1')).body.commands).toMatchObject([{ sequence: '7', payload: { tradeNo: 'T2' } }]);
    const [, cancelledSecond] = await cancel(7);
    expect(cancelledSecond).toBe(0);
    expect(await history('Q1', 6)).toEqual(['queued/0/', 'cancelled/0/']);
    await ack('Q1', '7');
  });

  it('makes the sends of a stopped platform process due again at the sweep', async () => {
    await command('Q1', 'recharge', { amount: '30.0000', tradeNo: 'T3', reason: 'recharge' });
    expect((await uplink('Q1')).body.commands).toMatchObject([{ sequence: '8', attempt: 1 }]);
    // As if another process had sent it and was then killed: its heartbeat went stale.
    const gone = randomUUID();
    await query(`INSERT INTO link_instance (id, host, pid, heartbeat_at) VALUES ($1, 'elsewhere', 1, now() - interval '1 day')`, [gone]);
    await query(`UPDATE meter_command SET sent_by = $1, ack_deadline = now() + interval '1 hour' WHERE sequence = 8`, [gone]);
    expect((await uplink('Q1')).body.commands).toEqual([]);

    await platform.meterLink.sweep();
    expect((await uplink('Q1')).body.commands).toMatchObject([{ sequence: '8', attempt: 2 }]);
    expect(await history('Q1', 8)).toContain('sent/1/sent by a platform process that has stopped; due again');
    expect((await ack('Q1', '8', 'duplicate')).body.results).toMatchObject([{ status: 'succeeded' }]);
  });

  it('hands out a command once when the same meter wakes up through many calls at once', async () => {
    await openAccount(platform, tenant, 'Q2', { preSaving: '100' });
    await command('Q2', 'valve', { action: 'close' });
    const answers = await Promise.all(Array.from({ length: 12 }, () => uplink('Q2')));
    const delivered = answers.flatMap((answer) => answer.body.commands);
    // Only the head, and each send of it once (the calls queue up on the embedded database long
    // enough for the 1 s timeout to allow a second attempt).
    expect(new Set(delivered.map((c: { sequence: string }) => c.sequence))).toEqual(new Set(['1']));
    const attempts = delivered.map((c: { attempt: number }) => c.attempt);
    expect(new Set(attempts).size).toBe(attempts.length);
    expect(await query(`SELECT count(*)::int AS n FROM meter_command c JOIN meter m ON m.id = c.meter_id WHERE m.meter_no = 'Q2' AND c.state = 'sent'`)).toEqual([{ n: 1 }]);
  });
});
