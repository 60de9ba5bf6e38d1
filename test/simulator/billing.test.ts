import { bill, cycleStart, priceAt, START_OF_TIME, type PriceScheme, type TierPosition } from '../../src/simulator/billing';

/**
 * Meter-side billing against tables worked out by hand (issue 5). Shanghai time throughout.
 */
const ZONE = 'Asia/Shanghai';
const at = (local: string) => new Date(`${local}+08:00`);

/** The spec's ChangePrice example (§5.3.10) with its tiers: 1.20 / 1.80 / 3.00, ends 200 and 500 m³. */
const TIERED: PriceScheme = {
  priceMode: 101,
  monthCount: 12,
  iniDate: at('2026-01-01T00:00:00').toISOString(),
  price1: '1.2000',
  price2: '1.8000',
  price3: '3.0000',
  level1: '200',
  level2: '500',
};

const STANDARD: PriceScheme = {
  priceMode: 100,
  monthCount: 1,
  iniDate: null,
  price1: '3.2000',
  price2: null,
  price3: null,
  level1: null,
  level2: null,
};

describe('meter-side billing', () => {
  it('bills a standard price per cubic metre, rounded half up to 4 decimals', () => {
    expect(bill(STANDARD, START_OF_TIME, '12.5', at('2026-03-01T10:00:00'), ZONE).cost).toBe('40.0000');
    // 0.33335 × 3.2 = 1.06672 → 1.0667
    expect(bill(STANDARD, START_OF_TIME, '0.33335', at('2026-03-01T10:00:00'), ZONE).cost).toBe('1.0667');
    // 0.00015625 × 3.2 = 0.0005 exactly → half up: 0.0005
    expect(bill(STANDARD, START_OF_TIME, '0.00015625', at('2026-03-01T10:00:00'), ZONE).cost).toBe('0.0005');
  });

  /**
   * One tier cycle, consumption after consumption:
   *
   * | when              | before | used | after | tier 1       | tier 2        | tier 3       | cost      | next price |
   * |-------------------|--------|------|-------|--------------|---------------|--------------|-----------|------------|
   * | 2026-03-01        |      0 |  150 |   150 | 150 × 1.20   |               |              |  180.0000 | 1.2000     |
   * | 2026-04-01        |    150 |  100 |   250 |  50 × 1.20   |  50 × 1.80    |              |  150.0000 | 1.8000     |
   * | 2026-06-01        |    250 |  300 |   550 |              | 250 × 1.80    |  50 × 3.00   |  600.0000 | 3.0000     |
   * | 2026-12-31 23:59  |    550 |   10 |   560 |              |               |  10 × 3.00   |   30.0000 | 3.0000     |
   * | 2027-01-01 00:00  | (new cycle) 0 | 10 | 10 | 10 × 1.20 |               |              |   12.0000 | 1.2000     |
   */
  it('follows the tiers through one cycle, crossing both boundaries, then starts again at the cycle reset', () => {
    const steps: Array<[string, string, string, string, string]> = [
      ['2026-03-01T08:00:00', '150', '180.0000', '150', '1.2000'],
      ['2026-04-01T08:00:00', '100', '150.0000', '250', '1.8000'],
      ['2026-06-01T08:00:00', '300', '600.0000', '550', '3.0000'],
      ['2026-12-31T23:59:59', '10', '30.0000', '560', '3.0000'],
      ['2027-01-01T00:00:00', '10', '12.0000', '10', '1.2000'],
    ];
    let position: TierPosition = START_OF_TIME;
    for (const [when, used, cost, usage, nextPrice] of steps) {
      const result = bill(TIERED, position, used, at(when), ZONE);
      expect({ when, cost: result.cost, usage: result.position.cycleUsage, price: result.currentPrice }).toEqual({
        when,
        cost,
        usage,
        price: nextPrice,
      });
      position = result.position;
    }
    expect(position.cycleStart).toBe(at('2027-01-01T00:00:00').toISOString());
  });

  it('splits one consumption over all three tiers: 100 m³ used, then 500 more', () => {
    // 100 → 600: 100 × 1.20 + 300 × 1.80 + 100 × 3.00 = 120 + 540 + 300 = 960
    const position = { cycleStart: at('2026-01-01T00:00:00').toISOString(), cycleUsage: '100' };
    const result = bill(TIERED, position, '500', at('2026-02-01T00:00:00'), ZONE);
    expect(result.charges).toEqual([
      { tier: 1, volume: '100.0000', price: '1.2000' },
      { tier: 2, volume: '300.0000', price: '1.8000' },
      { tier: 3, volume: '100.0000', price: '3.0000' },
    ]);
    expect(result.cost).toBe('960.0000');
  });

  it('bills fractions exactly across a boundary: 199.9999 used, then 0.0002 more', () => {
    // 0.0001 × 1.20 + 0.0001 × 1.80 = 0.00012 + 0.00018 = 0.0003
    const position = { cycleStart: at('2026-01-01T00:00:00').toISOString(), cycleUsage: '199.9999' };
    expect(bill(TIERED, position, '0.0002', at('2026-02-01T00:00:00'), ZONE).cost).toBe('0.0003');
  });

  /**
   * MonthCount 1 from 15 January 2026, 00:00 Shanghai:
   *
   * | instant (Shanghai)  | cycle starts |
   * |---------------------|--------------|
   * | 2026-01-15 00:00:00 | 2026-01-15   |
   * | 2026-02-14 23:59:59 | 2026-01-15   |
   * | 2026-02-15 00:00:00 | 2026-02-15   |
   * | 2026-01-14 23:59:59 | 2025-12-15   |  (before IniDate: the cycles extend backwards)
   */
  it('cuts cycles of MonthCount calendar months from IniDate in the tenant zone', () => {
    const monthly: PriceScheme = { ...TIERED, monthCount: 1, iniDate: at('2026-01-15T00:00:00').toISOString() };
    const table: Array<[string, string]> = [
      ['2026-01-15T00:00:00', '2026-01-15T00:00:00'],
      ['2026-02-14T23:59:59', '2026-01-15T00:00:00'],
      ['2026-02-15T00:00:00', '2026-02-15T00:00:00'],
      ['2026-01-14T23:59:59', '2025-12-15T00:00:00'],
    ];
    for (const [instant, start] of table) {
      expect([instant, cycleStart(monthly, at(instant), ZONE).toISOString()]).toEqual([instant, at(start).toISOString()]);
    }
    const quarterly: PriceScheme = { ...TIERED, monthCount: 3, iniDate: at('2026-01-15T00:00:00').toISOString() };
    expect(cycleStart(quarterly, at('2026-06-30T12:00:00'), ZONE).toISOString()).toBe(at('2026-04-15T00:00:00').toISOString());
  });

  it('resets the cycle usage in the middle of a heavy month: the old cycle’s usage does not carry over', () => {
    const monthly: PriceScheme = { ...TIERED, monthCount: 1, iniDate: at('2026-01-15T00:00:00').toISOString() };
    const inJanuary = bill(monthly, START_OF_TIME, '450', at('2026-02-10T00:00:00'), ZONE);
    // 200 × 1.20 + 250 × 1.80 = 240 + 450 = 690
    expect(inJanuary.cost).toBe('690.0000');
    const afterReset = bill(monthly, inJanuary.position, '250', at('2026-02-16T00:00:00'), ZONE);
    // New cycle: 200 × 1.20 + 50 × 1.80 = 240 + 90 = 330
    expect(afterReset.cost).toBe('330.0000');
    expect(afterReset.position.cycleUsage).toBe('250');
  });

  it('reports the price of the next cubic metre', () => {
    expect(priceAt(TIERED, '0')).toBe('1.2000');
    expect(priceAt(TIERED, '199.9999')).toBe('1.2000');
    expect(priceAt(TIERED, '200')).toBe('1.8000');
    expect(priceAt(TIERED, '500')).toBe('3.0000');
    expect(priceAt(STANDARD, '1000')).toBe('3.2000');
  });
});
