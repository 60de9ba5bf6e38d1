import { DateTime } from 'luxon';
import { Exact, fitsNumber16x4 } from './decimal';
import { PlatformError } from './errors';
import { NumberText, PayloadObject, type PayloadValue } from './payload';
import { ReturnCode } from './return-codes';

/**
 * Typed reads of payload fields, each failure with its spec code (DECISIONS §4):
 * missing or too long 80002003 (naming the field), wrong type or out of range 80002002.
 * An absent field, `null` and a blank string all count as "not given".
 */

export function optionalString(payload: PayloadObject, key: string, maxLength: number): string | undefined {
  const value = payload.get(key);
  if (value === undefined || value === null) return undefined;

  let text: string;
  if (typeof value === 'string') text = value.trim();
  else if (value instanceof NumberText) text = value.text;
  else throw typeError(key);

  if (text === '') return undefined;
  assertStorable(text, key);
  if ([...text].length > maxLength) {
    throw new PlatformError(
      ReturnCode.MissingOrInvalidField,
      `字段不符合规范：${key} 长度超过 ${maxLength}`,
    );
  }
  return text;
}

export function requiredString(payload: PayloadObject, key: string, maxLength: number): string {
  return required(key, optionalString(payload, key, maxLength));
}

/** NUMBER(16,4): money and readings; negative values are out of range for every such field here. */
export function optionalAmount(payload: PayloadObject, key: string): Exact | undefined {
  const text = numericText(payload.get(key), key);
  if (text === undefined) return undefined;

  let value: Exact;
  try {
    value = new Exact(text);
  } catch {
    throw typeError(key);
  }
  if (!fitsNumber16x4(value) || value.isNegative()) {
    throw new PlatformError(
      ReturnCode.TypeConversion,
      `传入参数数据类型转换错误：${key} 超出范围（最多 12 位整数、4 位小数，且不能为负）`,
    );
  }
  return value;
}

export function requiredAmount(payload: PayloadObject, key: string): Exact {
  return required(key, optionalAmount(payload, key));
}

/** An `int` or `NUMBER(10)` field, given as a number or a numeric string. */
export function optionalInteger(payload: PayloadObject, key: string): number | undefined {
  const text = numericText(payload.get(key), key);
  if (text === undefined) return undefined;
  if (!/^[+-]?\d{1,10}$/.test(text)) throw typeError(key);

  const value = Number(text);
  if (!Number.isSafeInteger(value) || Math.abs(value) > 2_147_483_647) throw typeError(key);
  return value;
}

export function requiredInteger(payload: PayloadObject, key: string): number {
  return required(key, optionalInteger(payload, key));
}

/** The years a date of gas metering can fall in; anything outside is a typing error, not a date. */
export const DATE_YEARS = { first: 1900, last: 2099 } as const;

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})(?: ([01]\d|2[0-3]):([0-5]\d):([0-5]\d))?$/;

/**
 * A DATE field: `yyyy-MM-dd HH:mm:ss` or `yyyy-MM-dd`, in the tenant's time zone, hours 00 to 23,
 * a real calendar day, years DATE_YEARS.first to DATE_YEARS.last (DECISIONS §4: else 80002002).
 */
export function optionalDate(payload: PayloadObject, key: string, timeZone: string): Date | undefined {
  const value = payload.get(key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw typeError(key);

  const text = value.trim();
  if (text === '') return undefined;
  const match = DATE_PATTERN.exec(text);
  const parsed = match
    ? DateTime.fromObject(
        {
          year: Number(match[1]),
          month: Number(match[2]),
          day: Number(match[3]),
          hour: Number(match[4] ?? 0),
          minute: Number(match[5] ?? 0),
          second: Number(match[6] ?? 0),
        },
        { zone: timeZone },
      )
    : undefined;
  if (!parsed?.isValid || parsed.year < DATE_YEARS.first || parsed.year > DATE_YEARS.last) {
    throw new PlatformError(
      ReturnCode.TypeConversion,
      `传入参数数据类型转换错误：${key} 应为 yyyy-MM-dd HH:mm:ss（${DATE_YEARS.first} 至 ${DATE_YEARS.last} 年）`,
    );
  }
  return parsed.toJSDate();
}

export function requiredDate(payload: PayloadObject, key: string, timeZone: string): Date {
  return required(key, optionalDate(payload, key, timeZone));
}

/** An array of objects, such as `Meters`. */
export function requiredObjectArray(payload: PayloadObject, key: string): PayloadObject[] {
  const value = payload.get(key);
  if (value === undefined || value === null) throw missing(key);
  if (!Array.isArray(value)) throw typeError(key);
  if (value.length === 0) throw missing(key);

  return value.map((item) => {
    if (!(item instanceof PayloadObject)) throw typeError(key);
    return item;
  });
}

function numericText(value: PayloadValue | undefined, key: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof NumberText) return value.text;
  if (typeof value === 'string') {
    const text = value.trim();
    if (text === '') return undefined;
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw typeError(key);
    return text;
  }
  throw typeError(key);
}

/**
 * PostgreSQL text holds neither U+0000 nor half of a surrogate pair (a JSON `\ud800` alone), so
 * such a string is refused as a wrong value instead of failing in the database.
 */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function assertStorable(text: string, key: string): void {
  if (UNSTORABLE.test(text)) {
    throw new PlatformError(
      ReturnCode.TypeConversion,
      `传入参数数据类型转换错误：${key} 含有无法保存的字符（U+0000 或不成对的代理项）`,
    );
  }
}

function required<T>(key: string, value: T | undefined): T {
  if (value === undefined) throw missing(key);
  return value;
}

function missing(key: string): PlatformError {
  return new PlatformError(ReturnCode.MissingOrInvalidField, `传入参数缺少重要字段：${key}`);
}

function typeError(key: string): PlatformError {
  return new PlatformError(ReturnCode.TypeConversion, `传入参数数据类型转换错误：${key}`);
}
