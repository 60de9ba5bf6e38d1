import { DateTime } from 'luxon';
import { Exact } from '../domain/decimal';

/**
 * Meter-side billing (表端计费, spec §2) as a simulated meter does it: pure functions over exact
 * decimals, no clock and no I/O, so that the hand-worked tables of test/simulator/billing.test.ts
 * pin them down.
 *
 * - Standard price (PriceMode 100): every cubic metre costs Price1.
 * - Tiered price (PriceMode 101): within one tier cycle, the first Level1 m³ cost Price1, the
 *   next ones up to Level2 m³ cost Price2, everything beyond Price3 (Level1 / Level2 are the end
 *   values of tiers 1 and 2, 第一/第二阶梯气量结束值, counted from the cycle's start).
 * - Tier cycle (阶梯月数): MonthCount months from IniDate (气价起算日期), then the next MonthCount
 *   months, and so on; the cycle's usage starts again from zero at each cycle start. Months are
 *   calendar months in the tenant's time zone (a cycle from 31 January of one month ends on the
 *   last day of February, as luxon adds months). Without IniDate the cycle starts when the meter
 *   took the price.
 * - A consumption is billed at the instant it is read, in the cycle of that instant (a meter
 *   reading every few hours puts a consumption that straddles a cycle start in the new cycle).
 * - The cost of one consumption is rounded once, half up, to 4 decimals (NUMBER(16,4)).
 */
export interface PriceScheme {
  priceMode: 100 | 101;
  monthCount: number | null;
  /** ISO instant, as the command payload carries it. */
  iniDate: string | null;
  price1: string;
  price2: string | null;
  price3: string | null;
  level1: string | null;
  level2: string | null;
}

/** Where the meter stands in its tier cycle. */
export interface TierPosition {
  /** ISO instant of the current cycle's start; null before the first consumption. */
  cycleStart: string | null;
  /** m³ used since the cycle started. */
  cycleUsage: string;
}

export interface TierCharge {
  tier: 1 | 2 | 3;
  volume: string;
  price: string;
}

export interface Bill {
  /** The consumption's cost, 4 decimals. */
  cost: string;
  /** Volume per tier (tiers with no volume left out). */
  charges: TierCharge[];
  position: TierPosition;
  /** The price of the next cubic metre: what the meter reports as its current price. */
  currentPrice: string;
}

export const START_OF_TIME: TierPosition = { cycleStart: null, cycleUsage: '0' };

export function bill(
  scheme: PriceScheme,
  position: TierPosition,
  volume: string,
  at: Date,
  timeZone: string,
  firstUse: Date = at,
): Bill {
  const used = new Exact(volume);
  if (scheme.priceMode === 100) {
    return {
      cost: used.mul(scheme.price1).toFixed(4),
      charges: used.isZero() ? [] : [{ tier: 1, volume: used.toFixed(4), price: scheme.price1 }],
      position,
      currentPrice: scheme.price1,
    };
  }

  const start = cycleStart(scheme, at, timeZone, firstUse).toISOString();
  const before = start === position.cycleStart ? new Exact(position.cycleUsage) : new Exact(0);
  const after = before.add(used);
  const charges = tiers(scheme)
    .map(({ tier, from, to, price }): TierCharge & { exact: Exact } => {
      const lower = Exact.max(before, from);
      const upper = to === null ? after : Exact.min(after, to);
      const inTier = Exact.max(upper.sub(lower), 0);
      return { tier, volume: inTier.toFixed(4), price, exact: inTier.mul(price) };
    })
    .filter((charge) => new Exact(charge.volume).gt(0));

  return {
    cost: charges.reduce((sum, charge) => sum.add(charge.exact), new Exact(0)).toFixed(4),
    charges: charges.map(({ tier, volume: chargeVolume, price }) => ({ tier, volume: chargeVolume, price })),
    position: { cycleStart: start, cycleUsage: after.toString() },
    currentPrice: priceAt(scheme, after),
  };
}

/** The price of the next cubic metre after `usage` m³ in the cycle. */
export function priceAt(scheme: PriceScheme, usage: Exact | string): string {
  if (scheme.priceMode === 100) return scheme.price1;
  const used = new Exact(usage);
  const tier = tiers(scheme).find(({ to }) => to === null || used.lt(to));
  return (tier ?? tiers(scheme)[2]!).price;
}

/**
 * The start of the tier cycle that contains `at`: IniDate (or `firstUse`) plus a whole number of
 * MonthCount-month steps, that number possibly negative for an instant before IniDate.
 */
export function cycleStart(scheme: PriceScheme, at: Date, timeZone: string, firstUse: Date = at): Date {
  const months = Math.max(1, scheme.monthCount ?? 1);
  const origin = DateTime.fromJSDate(scheme.iniDate ? new Date(scheme.iniDate) : firstUse, { zone: timeZone });
  const instant = DateTime.fromJSDate(at, { zone: timeZone });

  let steps = Math.floor(instant.diff(origin, 'months').months / months);
  // diff in months is calendar-aware but fractional; settle the edges exactly.
  while (origin.plus({ months: steps * months }) > instant) steps -= 1;
  while (origin.plus({ months: (steps + 1) * months }) <= instant) steps += 1;
  return origin.plus({ months: steps * months }).toJSDate();
}

function tiers(scheme: PriceScheme) {
  const level1 = new Exact(scheme.level1 ?? 0);
  const level2 = new Exact(scheme.level2 ?? 0);
  return [
    { tier: 1 as const, from: new Exact(0), to: level1, price: scheme.price1 },
    { tier: 2 as const, from: level1, to: level2, price: scheme.price2 ?? scheme.price1 },
    { tier: 3 as const, from: level2, to: null, price: scheme.price3 ?? scheme.price2 ?? scheme.price1 },
  ];
}
