import type { Tenant } from '../../src/domain/model';
import { Simulator } from '../../src/simulator/simulator';
import { soapCall } from '../support/cis-client';
import { addGateway } from '../support/meter-link';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';

/**
 * The whole chain over SOAP, with simulated meters billing on the meter side (issue 5, "Done
 * when"): the CIS's MeterAdd, Recharge, ChangePrice and ControlValve reach the virtual meter
 * through the queue and the device API; ReadCurrentData then shows what the meter reported.
 */
describe('meter-side billing end to end over SOAP', () => {
  let platform: TestPlatform;
  let tenant: Tenant;
  let simulator: Simulator;
  /** m³ each meter uses before its next report. */
  let nextUse = '0';
  let clock = Date.now() - 3_600_000;

  beforeAll(async () => {
    platform = await startTestPlatform();
    tenant = await platform.createTenant({});
    simulator = new Simulator({
      url: platform.url,
      token: await addGateway(platform, tenant),
      intervalMs: 60_000,
      consumption: () => nextUse,
      clock: () => new Date((clock += 1000)),
    });
  });
  afterAll(() => platform.close());

  async function soap(operation: string, payload: Record<string, unknown>) {
    const answer = await soapCall(platform.url, operation, JSON.stringify({ ...payload, DataFrom: tenant.name }));
    expect(answer.status).toBe(200);
    return JSON.parse(answer.encryptData) as Record<string, any>;
  }

  async function wakeUp(use = '0') {
    nextUse = use;
    await simulator.refreshMeters();
    const result = await simulator.wakeUp();
    expect(result.errors).toBe(0);
    return result;
  }

  async function currentData(meterId: string) {
    const answer = await soap('ReadCurrentData', { Meters: [{ UserID: `U${meterId}`, MeterID: meterId }] });
    expect(answer.ReturnCode).toBe(0);
    return answer.ReadingData[0] as Record<string, unknown>;
  }

  const now = () => '2026-10-02 12:34:22';

  it('opens the account with its opening balance on the meter (MeterAdd with PreSaving)', async () => {
    const answer = await soap('MeterAdd', {
      UserID: 'UE1',
      MeterID: 'E1',
      MeterNo: 'E1',
      PreSaving: '100',
      MeterParamModel: 'CNMCPUJE',
      MeterProtocol: 'CNModbusV61',
      PriceID: 'STD',
      PriceMode: '100',
      MonthCount: '1',
      Price1: '3.2',
    });
    expect(answer.ReturnCode).toBe(0);

    expect((await wakeUp()).commands).toBe(2); // open_account, then the opening recharge
    const meter = simulator.meters.get('E1')!;
    expect(meter.balance.toFixed(4)).toBe('100.0000');

    await wakeUp('2.5'); // 2.5 m³ × 3.2 = 8
    expect(await currentData('E1')).toMatchObject({ Reading: 2.5, RemainMoney: 92, TotalUsedMoney: 8, ValveState: '01', Price: 3.2 });
  });

  it('credits a Recharge on the meter', async () => {
    expect((await soap('Recharge', { UserID: 'UE1', MeterID: 'E1', TradeNo: 'R1', RechargeTime: now(), RechargeAmt: '50' })).ReturnCode).toBe(0);
    await wakeUp();
    await wakeUp(); // the report after the credit
    expect(await currentData('E1')).toMatchObject({ RemainMoney: 142, TotalBuyMoney: 150 });
  });

  it('bills at the tier prices after a tiered ChangePrice, crossing a tier boundary', async () => {
    const answer = await soap('ChangePrice', {
      UserID: 'UE1',
      MeterID: 'E1',
      ChangeTime: now(),
      PriceID: 'TIER',
      Version: '1',
      IniDate: '2026-01-01 00:00:00',
      PriceMode: '101',
      MonthCount: '12',
      Price1: '1.20',
      Price2: '1.80',
      Price3: '3.00',
      Level1: '10',
      Level2: '20',
    });
    expect(answer.ReturnCode).toBe(0);
    await wakeUp(); // the meter takes the new price

    // 15 m³ in a fresh cycle: 10 × 1.20 + 5 × 1.80 = 12 + 9 = 21 → 142 − 21 = 121
    await wakeUp('15');
    expect(await currentData('E1')).toMatchObject({ Reading: 17.5, RemainMoney: 121, TotalUsedMoney: 29, Price: 1.8 });
    // 7 m³ more: 5 × 1.80 + 2 × 3.00 = 9 + 6 = 15 → 106
    await wakeUp('7');
    expect(await currentData('E1')).toMatchObject({ Reading: 24.5, RemainMoney: 106, TotalUsedMoney: 44, Price: 3 });
  });

  it('closes the valve on ControlValve 2010; the meter then uses no gas', async () => {
    expect((await soap('ControlValve', { UserID: 'UE1', MeterID: 'E1', Control: 2010 })).ReturnCode).toBe(0);
    await wakeUp();
    expect((await currentData('E1')).ValveState).toBe('00');

    await wakeUp('5');
    expect(await currentData('E1')).toMatchObject({ Reading: 24.5, RemainMoney: 106, ValveState: '00' });
  });

  it('cancels a recharge before the meter wakes up, and refuses to after (80002027)', async () => {
    const recharge = (tradeNo: string) =>
      soap('Recharge', { UserID: 'UE1', MeterID: 'E1', TradeNo: tradeNo, RechargeTime: now(), RechargeAmt: '30' });
    const cancel = (tradeNo: string) =>
      soap('CancelRecharge', { UserID: 'UE1', MeterID: 'E1', TradeNo: tradeNo, CancelTime: now(), CancelAmt: '30' });

    expect((await recharge('R2')).ReturnCode).toBe(0);
    expect((await cancel('R2')).ReturnCode).toBe(0);
    await wakeUp();
    expect(simulator.meters.get('E1')!.balance.toFixed(4)).toBe('106.0000');

    expect((await recharge('R3')).ReturnCode).toBe(0);
    await wakeUp();
    expect(simulator.meters.get('E1')!.balance.toFixed(4)).toBe('136.0000');
    expect((await cancel('R3')).ReturnCode).toBe(80002027);
  });

  it('applied every command once', () => {
    const meter = simulator.meters.get('E1')!;
    expect([...meter.applied.values()].every((count) => count === 1)).toBe(true);
  });
});
