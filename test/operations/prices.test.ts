import type { Tenant } from '../../src/domain/model';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';
import { callOperation, meterAddPayload } from './operation-calls';
import { countTransactionStatements, seedMeters } from './seed-meters';

/**
 * ChangePrice and BatchChangePrice (spec §5.3.10, §5.3.11; DECISIONS §5.3, §5.5): a stored price
 * never changes, a tiered price needs Level1 < Level2, and a batch is all or nothing, set-based,
 * with every meter's command sequence right.
 */
const TENANT = '苍南仪表集团';
const PRICE = {
  ChangeTime: '2019-10-02 00:00:00',
  PriceID: '6001',
  Version: '1',
  IniDate: '2019-10-01',
  PriceMode: '101',
  MonthCount: '12',
  Price1: '2.5',
  Price2: '3.25',
  Price3: '4.0001',
  Level1: 200,
  Level2: '500',
};

describe('re-pricing meters', () => {
  let platform: TestPlatform;
  let tenant: Tenant;
  const sql = <T = Record<string, unknown>>(text: string, parameters: unknown[] = []) =>
    platform.database.dataSource.query(text, parameters) as Promise<T[]>;
  const call = (operation: 'ChangePrice' | 'BatchChangePrice', fields: Record<string, unknown>, dataFrom = TENANT) =>
    callOperation(platform, 'rest', operation, JSON.stringify({ ...PRICE, ...fields, DataFrom: dataFrom }));
  const pairs = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, index) => ({ UserID: `BU${from + index}`, MeterID: `BM${from + index}` }));
  const commandCount = async () => (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM meter_command`))[0]?.n;

  beforeAll(async () => {
    platform = await startTestPlatform();
    tenant = await platform.createTenant({ code: 'cangnan', name: TENANT });
    await sql(`INSERT INTO meter_model (code, description, remote_controllable) VALUES ('CNMECH', 'no radio', false)`);
    for (const [meterId, model] of [['P1', 'CNMCPUJE'], ['LOCAL', 'CNMECH']] as const) {
      const payload = meterAddPayload({ userId: `U${meterId}`, meterId, dataFrom: TENANT, model });
      expect((await callOperation(platform, 'rest', 'MeterAdd', payload)).code).toBe(0);
    }
    await seedMeters(platform, tenant.id, 'B', 1200);
  });
  afterAll(() => platform.close());

  describe('ChangePrice', () => {
    it('moves the meter to the price, dated by ChangeTime, and queues the whole scheme', async () => {
      expect((await call('ChangePrice', { UserID: 'UP1', MeterID: 'P1' })).code).toBe(0);

      expect(
        await sql(
          `SELECT p.price_id, p.price3, p.level2, to_char(m.price_changed_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS changed
             FROM meter m JOIN price_scheme p ON p.id = m.price_scheme_id WHERE m.meter_id = 'P1'`,
        ),
      ).toEqual([{ price_id: '6001', price3: '4.0001', level2: '500', changed: '2019-10-02 00:00' }]);
      const [command] = await sql<{ sequence: string; payload: unknown }>(
        `SELECT c.sequence, c.payload FROM meter_command c JOIN meter m ON m.id = c.meter_id
          WHERE m.meter_id = 'P1' AND c.kind = 'price_change'`,
      );
      expect(command).toEqual({
        sequence: '2',
        payload: {
          priceId: '6001',
          version: '1',
          priceMode: 101,
          monthCount: 12,
          iniDate: '2019-09-30T16:00:00.000Z',
          price1: '2.5000',
          price2: '3.2500',
          price3: '4.0001',
          level1: '200',
          level2: '500',
        },
      });
    });

    it('refuses a known PriceID and Version with other content (80002034) and changes nothing', async () => {
      const before = await commandCount();

      const answer = await call('ChangePrice', { UserID: 'UP1', MeterID: 'P1', Price1: '2.5001' });
      expect(answer.code).toBe(80002034);
      expect(answer.message).toContain('6001');
      expect(await commandCount()).toBe(before);
      expect(await sql(`SELECT price1 FROM price_scheme WHERE price_id = '6001'`)).toEqual([{ price1: '2.5000' }]);
    });

    it('refuses a tiered price whose Level1 is not below Level2 (80002004)', async () => {
      expect((await call('ChangePrice', { UserID: 'UP1', MeterID: 'P1', PriceID: '6002', Level1: 500 })).code).toBe(80002004);
      expect((await call('ChangePrice', { UserID: 'UP1', MeterID: 'P1', PriceID: '6002', Level1: 900 })).code).toBe(80002004);
      expect((await call('ChangePrice', { UserID: 'UP1', MeterID: 'P1', PriceID: '6002', Price1: '1.00005' })).code).toBe(80002002);
    });

    it('needs a ChangeTime (80002003) and a meter that can be reached (80002024)', async () => {
      const missing = await callOperation(
        platform,
        'rest',
        'ChangePrice',
        JSON.stringify({ ...PRICE, ChangeTime: undefined, UserID: 'UP1', MeterID: 'P1', DataFrom: TENANT }),
      );
      expect(missing.code).toBe(80002003);
      expect(missing.message).toContain('ChangeTime');
      expect((await call('ChangePrice', { UserID: 'ULOCAL', MeterID: 'LOCAL' })).code).toBe(80002024);
    });
  });

  describe('BatchChangePrice', () => {
    it('re-prices 1,200 meters, each with the next sequence of its own queue', async () => {
      // Some meters already have commands waiting, so their next sequence differs.
      await sql(`UPDATE meter SET last_command_sequence = 7 WHERE meter_id IN ('BM2', 'BM500', 'BM1200')`);
      const before = await sql<{ id: string; last: string }>(
        `SELECT id, last_command_sequence AS last FROM meter WHERE meter_id LIKE 'BM%'`,
      );

      expect((await call('BatchChangePrice', { Meters: pairs(1, 1200), PriceID: '6003', ChangeTime: '2019-11-01 08:00:00' })).code).toBe(0);

      const after = await sql<{ id: string; last: string; sequence: string; price_id: string }>(
        `SELECT m.id, m.last_command_sequence AS last, c.sequence, p.price_id
           FROM meter m JOIN meter_command c ON c.meter_id = m.id AND c.kind = 'price_change'
           JOIN price_scheme p ON p.id = m.price_scheme_id
          WHERE m.meter_id LIKE 'BM%'`,
      );
      expect(after).toHaveLength(1200);
      const previous = new Map(before.map((row) => [row.id, BigInt(row.last)]));
      for (const row of after) {
        expect(BigInt(row.sequence)).toBe((previous.get(row.id) as bigint) + 1n);
        expect(row.last).toBe(row.sequence);
        expect(row.price_id).toBe('6003');
      }
    });

    it('changes nothing when one pair does not match, and names it (80002013)', async () => {
      const before = await sql(`SELECT id, price_scheme_id, last_command_sequence FROM meter ORDER BY id`);
      const commands = await commandCount();
      const meters = pairs(1, 5);
      meters[2] = { UserID: 'BU3', MeterID: 'BM4' };

      const answer = await call('BatchChangePrice', { Meters: meters, PriceID: '6004' });
      expect(answer.code).toBe(80002013);
      expect(answer.message).toContain('第 3 项');
      expect(answer.message).toContain('UserID BU3，MeterID BM4');
      expect(await sql(`SELECT id, price_scheme_id, last_command_sequence FROM meter ORDER BY id`)).toEqual(before);
      expect(await commandCount()).toBe(commands);
      expect(await sql(`SELECT count(*)::int AS n FROM price_scheme WHERE price_id = '6004'`)).toEqual([{ n: 0 }]);
    });

    it('refuses an unknown meter (80002013), a closed or suspended one (80002023) and one out of reach (80002024)', async () => {
      const unknown = await call('BatchChangePrice', { Meters: [...pairs(1, 2), { UserID: 'BU3', MeterID: 'NOPE' }] });
      expect(unknown.code).toBe(80002013);
      expect(unknown.message).toContain('NOPE');

      await sql(`UPDATE meter SET state = -2 WHERE meter_id = 'BM10'`);
      await sql(`UPDATE meter SET state = -1 WHERE meter_id = 'BM11'`);
      const closed = await call('BatchChangePrice', { Meters: pairs(9, 12) });
      expect(closed.code).toBe(80002023);
      expect(closed.message).toContain('BM10');
      const suspended = await call('BatchChangePrice', { Meters: pairs(11, 12) });
      expect(suspended.code).toBe(80002023);
      expect(suspended.message).toContain('BM11');
      await sql(`UPDATE meter SET state = 0 WHERE meter_id IN ('BM10', 'BM11')`);

      const local = await call('BatchChangePrice', { Meters: [...pairs(1, 2), { UserID: 'ULOCAL', MeterID: 'LOCAL' }] });
      expect(local.code).toBe(80002024);
    });

    it('refuses a tiered price whose Level1 is not below Level2 (80002004), and a missing MeterID naming its place (80002003)', async () => {
      expect((await call('BatchChangePrice', { Meters: pairs(1, 2), PriceID: '6005', Level1: '500' })).code).toBe(80002004);
      const missing = await call('BatchChangePrice', { Meters: [...pairs(1, 2), { UserID: 'BU3' }] });
      expect(missing.code).toBe(80002003);
      expect(missing.message).toContain('第 3 项');
      expect((await call('BatchChangePrice', { Meters: [] })).code).toBe(80002003);
    });

    it('queues one command for a meter named twice', async () => {
      expect((await call('BatchChangePrice', { Meters: [...pairs(20, 21), ...pairs(20, 20)], PriceID: '6006' })).code).toBe(0);
      expect(
        await sql(`SELECT count(*)::int AS n FROM meter_command WHERE kind = 'price_change' AND payload->>'priceId' = '6006'`),
      ).toEqual([{ n: 2 }]);
    });

    it('runs the same number of SQL statements for 10 meters as for 1,000', async () => {
      const batch = (meters: number, priceId: string) => () =>
        call('BatchChangePrice', { Meters: pairs(1, meters), PriceID: priceId });
      const few = await countTransactionStatements(platform, "'price_change'", batch(10, '6007'));
      const many = await countTransactionStatements(platform, "'price_change'", batch(1000, '6008'));

      expect(many).toBe(few);
      expect(few).toBeLessThan(20);
    });
  });

  it('is refused to a tenant whose CIS bills (80002003)', async () => {
    const system = await platform.createTenant({ code: 'sys', name: '系统计费燃气公司', billingMode: 'system' });
    await seedMeters(platform, system.id, 'S', 2);

    for (const answer of [
      await call('ChangePrice', { UserID: 'SU1', MeterID: 'SM1' }, system.name),
      await call('BatchChangePrice', { Meters: [{ UserID: 'SU1', MeterID: 'SM1' }] }, system.name),
    ]) {
      expect(answer.code).toBe(80002003);
      expect(answer.message).toContain('系统端计费');
    }
  });
});
