import type { Tenant } from '../../src/domain/model';
import { restCall } from '../support/cis-client';
import { deviceCall, openAccount, report, reportTimes, startLinkedTenant } from '../support/meter-link';
import type { TestPlatform } from '../support/test-platform';

/**
 * A meter closed by MeterDelete (spec §5.3.3) or replaced by MeterChange (spec §5.3.6) gives up
 * what was still queued for it, in the same transaction: the meter link must not deliver a
 * recharge to a meter that no longer has an account, nor the same money to the old meter and the
 * new one. Commands already sent stay, the closing command goes out, and the ledger is not
 * touched.
 */
const PATHS = {
  Recharge: '/rest/Standard/fee/recharge',
  RemainOption: '/rest/Standard/fee/remainOption',
  MeterDelete: '/rest/Standard/meter/meterDelete',
  MeterChange: '/rest/Standard/meter/meterChange',
} as const;

describe('closing a meter cancels its queued commands', () => {
  let platform: TestPlatform;
  let tenant: Tenant;
  let token: string;
  const nextReadAt = reportTimes();

  beforeAll(async () => {
    ({ platform, tenant, token } = await startLinkedTenant());
  });
  afterAll(() => platform.close());

  const sql = <T = Record<string, unknown>>(text: string, parameters: unknown[] = []) =>
    platform.database.dataSource.query(text, parameters) as Promise<T[]>;
  const call = async (operation: keyof typeof PATHS, fields: Record<string, unknown>, requestId?: string) => {
    const headers: Record<string, string> = requestId ? { 'X-Request-Id': requestId } : {};
    const answer = await restCall(platform.url, PATHS[operation], JSON.stringify({ DataFrom: tenant.name, ...fields }), headers);
    return answer.json.ReturnCode;
  };
  const recharge = (meterId: string, tradeNo: string, amount: string) =>
    call('Recharge', { UserID: `U${meterId}`, MeterID: meterId, TradeNo: tradeNo, RechargeTime: '2024-03-01 10:00:00', RechargeAmt: amount });
  const commands = async (meterId: string) =>
    (
      await sql<{ sequence: string; kind: string; state: string; result_message: string | null }>(
        `SELECT c.sequence, c.kind, c.state, c.result_message FROM meter_command c JOIN meter m ON m.id = c.meter_id
          WHERE m.meter_id = $1 ORDER BY c.sequence`,
        [meterId],
      )
    ).map((command) => {
      const why = command.state === 'cancelled' ? ` ${command.result_message}` : '';
      return `${command.sequence} ${command.kind} ${command.state}${why}`;
    });
  const history = async (meterId: string, sequence: number) =>
    (
      await sql<{ state: string; detail: string | null }>(
        `SELECT e.state, e.detail FROM meter_command_event e
           JOIN meter_command c ON c.id = e.command_id JOIN meter m ON m.id = c.meter_id
          WHERE m.meter_id = $1 AND c.sequence = $2 ORDER BY e.id`,
        [meterId, sequence],
      )
    ).map((event) => `${event.state}/${event.detail ?? ''}`);
  const ledger = (meterId: string) =>
    sql(
      `SELECT l.kind, l.amount, c.kind AS command FROM ledger_entry l JOIN meter m ON m.id = l.meter_id
         LEFT JOIN meter_command c ON c.id = l.command_id WHERE m.meter_id = $1 ORDER BY l.id`,
      [meterId],
    );
  const acknowledge = (meterId: string, sequences: string[]) =>
    deviceCall(platform.url, token, 'ack', {
      acks: sequences.map((sequence) => ({ meterNo: meterId, sequence, result: 'applied' })),
    });
  /**
   * What a meter is handed when it wakes up (or acknowledges the commands it had in flight), each
   * acknowledged in turn, until nothing is left for it.
   */
  const wakeUpUntilIdle = async (meterId: string, inFlight: string[] = []) => {
    const handed: Array<{ sequence: string; kind: string; payload: Record<string, unknown> }> = [];
    let answer =
      inFlight.length > 0
        ? await acknowledge(meterId, inFlight)
        : await deviceCall(platform.url, token, 'uplink', { reports: [report(meterId, nextReadAt())] });
    while (answer.body.commands?.length > 0) {
      handed.push(...answer.body.commands);
      answer = await acknowledge(meterId, answer.body.commands.map((command: { sequence: string }) => command.sequence));
    }
    return handed;
  };

  it('MeterDelete cancels the queued recharge and 返充, keeps close_account queued and the ledger as it was', async () => {
    await openAccount(platform, tenant, 'M3');
    expect(await recharge('M3', 'Q1', '25')).toBe(0);
    expect(
      await call('RemainOption', { UserID: 'UM3', MeterID: 'M3', TradeNo: 'Q1-R', CMDOption: '1000', OptionTime: '2024-03-01 11:00:00', OptionAmt: '5' }),
    ).toBe(0);
    const ledgerBefore = await ledger('M3');

    expect(await call('MeterDelete', { UserID: 'UM3', MeterID: 'M3' }, 'delete-M3')).toBe(0);

    const reason = '表具已销户，指令取消（MeterDelete，请求号 delete-M3）';
    expect(await commands('M3')).toEqual([
      `1 open_account cancelled ${reason}`,
      `2 recharge cancelled ${reason}`,
      `3 remain_option cancelled ${reason}`,
      '4 close_account queued',
    ]);
    expect(await history('M3', 2)).toEqual(['queued/', `cancelled/${reason}`]);
    expect(await ledger('M3')).toEqual(ledgerBefore);
    expect(ledgerBefore).toEqual([
      { kind: 'recharge', amount: '25.0000', command: 'recharge' },
      { kind: 'refund', amount: '5.0000', command: 'remain_option' },
    ]);
  });

  it('MeterDelete leaves the closed meter only its close_account to receive', async () => {
    expect((await wakeUpUntilIdle('M3')).map((command) => `${command.sequence} ${command.kind}`)).toEqual(['4 close_account']);
  });

  it('MeterChange cancels the old meter’s queued recharges, leaves the one in flight, and queues the new meter’s', async () => {
    await openAccount(platform, tenant, 'M2');
    // The old meter wakes up once: its open_account is in flight, not yet acknowledged.
    const first = await deviceCall(platform.url, token, 'uplink', { reports: [report('M2', nextReadAt())] });
    expect(first.body.commands).toMatchObject([{ sequence: '1', kind: 'open_account' }]);
    expect(await recharge('M2', 'DUP1', '33.3333')).toBe(0);
    expect(await recharge('M2', 'DUP2', '7.0000')).toBe(0);

    const changed = await call(
      'MeterChange',
      {
        UserID: 'UM2',
        OldMeterID: 'M2',
        OldENDREADING: '10',
        NewMeterID: 'M2N',
        NewMeterNo: 'M2N',
        NewMeterParamModel: 'CNMCPUJE',
        NewMeterProtocol: 'CNModbusV61',
        NewMeterReading: '0',
        ChangeTime: '2024-03-02 09:00:00',
        PreSaving: '40.3333',
      },
      'change-M2',
    );
    expect(changed).toBe(0);

    const reason = '表具已换表，指令取消（MeterChange，请求号 change-M2）';
    expect(await commands('M2')).toEqual([
      '1 open_account sent',
      `2 recharge cancelled ${reason}`,
      `3 recharge cancelled ${reason}`,
      '4 close_account queued',
    ]);
    expect(await commands('M2N')).toEqual(['1 open_account queued', '2 recharge queued']);
    expect(await history('M2', 3)).toEqual(['queued/', `cancelled/${reason}`]);
    expect(await ledger('M2')).toEqual([
      { kind: 'recharge', amount: '33.3333', command: 'recharge' },
      { kind: 'recharge', amount: '7.0000', command: 'recharge' },
      { kind: 'transfer_out', amount: '-40.3333', command: null },
    ]);
  });

  it('MeterChange: the old meter, waking up, gets no recharge; the new meter gets the moved balance once', async () => {
    // The meter applies what was in flight before the change, then asks for more.
    const oldMeter = [...(await wakeUpUntilIdle('M2', ['1'])), ...(await wakeUpUntilIdle('M2'))];
    expect(oldMeter.map((command) => command.kind)).not.toContain('recharge');
    expect(oldMeter.map((command) => `${command.sequence} ${command.kind}`)).toEqual(['4 close_account']);

    const newMeter = await wakeUpUntilIdle('M2N');
    expect(newMeter.map((command) => `${command.sequence} ${command.kind}`)).toEqual(['1 open_account', '2 recharge']);
    expect(newMeter[1]?.payload).toEqual({ amount: '40.3333', tradeNo: null, reason: 'transfer' });
  });
});
