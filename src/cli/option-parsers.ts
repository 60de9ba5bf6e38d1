import { InvalidArgumentError } from 'commander';

/**
 * Parsers for the values operators type, given to commander (`argParser`, `.argument(…, parser)`),
 * so that a bad value stops the command with one line naming the option before anything is
 * opened or stored. Commander does not run a parser on a default: a default is given parsed.
 */

/** A whole number from `min` to `max`, both included. */
export function wholeNumber(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
    if (!(value >= min && value <= max)) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return value;
  };
}

/** A decimal number from `min` to `max` (both included), or above `min` when `minExcluded`. */
export function decimalNumber(min: number, max: number, minExcluded = false): (text: string) => number {
  return (text) => {
    const value = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : Number.NaN;
    const aboveMin = minExcluded ? value > min : value >= min;
    if (!(aboveMin && value <= max)) {
      throw new InvalidArgumentError(`expected a number ${minExcluded ? 'above' : 'from'} ${min} ${minExcluded ? 'and at most' : 'to'} ${max}`);
    }
    return value;
  };
}

/** The largest id of a `serial` column (PostgreSQL integer). */
const MAX_SERIAL_ID = 2_147_483_647;
/** The largest id of a `bigserial` column (PostgreSQL bigint). */
const MAX_BIGSERIAL_ID = 9_223_372_036_854_775_807n;

/** The id of a row of a `serial` table (a gateway): 1 to 2147483647. */
export function serialId(text: string): number {
  return wholeNumber(1, MAX_SERIAL_ID)(text);
}

/** The id of a row of a `bigserial` table (a command), kept as text: it may not fit a double. */
export function bigserialId(text: string): string {
  const trimmed = text.trim();
  if (!/^\d{1,19}$/.test(trimmed) || BigInt(trimmed) < 1n || BigInt(trimmed) > MAX_BIGSERIAL_ID) {
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_BIGSERIAL_ID}`);
  }
  return BigInt(trimmed).toString();
}

/** Text that is not blank, of at most `maxLength` characters (the column's width), trimmed. */
export function nonBlankText(maxLength: number): (text: string) => string {
  return (text) => {
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.length > maxLength) {
      throw new InvalidArgumentError(`expected 1 to ${maxLength} characters, not blank`);
    }
    return trimmed;
  };
}

/** Text of at most `maxLength` characters; may be empty. */
export function shortText(maxLength: number): (text: string) => string {
  return (text) => {
    if (text.length > maxLength) throw new InvalidArgumentError(`expected at most ${maxLength} characters`);
    return text;
  };
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration in milliseconds: a number with ms, s, m, h or d (`500ms`, `10s`, `5m`, `2h`, `7d`,
 * units in either case); a bare number is seconds. `name` is the option, for the message.
 */
export function parseDurationMs(name: string, text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(text);
  if (!match) throw new Error(`${name} must be a duration such as 500ms, 10s, 5m, 2h or 7d, not ${text}`);
  return Math.round(Number(match[1]) * (DURATION_UNITS_MS[(match[2] ?? 's').toLowerCase()] as number));
}
