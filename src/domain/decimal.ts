import Decimal from 'decimal.js';

/**
 * Money and readings are exact decimals from request text to database and back (DECISIONS §4):
 * NUMBER(16,4), at most 12 integer and 4 decimal digits, computed with decimal.js and never with a
 * binary float. Forty significant digits leave room for sums over any number of ledger lines.
 */
export const Exact = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });
export type Exact = Decimal;

export const MAX_INTEGER_DIGITS = 12;
export const MAX_DECIMAL_DIGITS = 4;

/** The text PostgreSQL's numeric(16,4) and the responses use: exactly four decimals. */
export function formatFourDecimals(value: Decimal | string): string {
  return new Exact(value).toFixed(MAX_DECIMAL_DIGITS);
}

/** True when the value fits NUMBER(16,4) exactly (no rounding needed). */
export function fitsNumber16x4(value: Decimal): boolean {
  return (
    value.isFinite() &&
    value.decimalPlaces() <= MAX_DECIMAL_DIGITS &&
    value.abs().lt(new Exact(10).pow(MAX_INTEGER_DIGITS))
  );
}
