import { Exact } from '../domain/decimal';
import { PlatformError } from '../domain/errors';
import { optionalAmount, optionalDate, optionalInteger, optionalString, requiredAmount, requiredString } from '../domain/fields';
import type { PriceMode } from '../domain/model';
import type { PayloadObject } from '../domain/payload';
import { ReturnCode } from '../domain/return-codes';
import type { PriceSchemeEntity } from '../persistence/entities';
import type { PriceSchemeValues } from '../persistence/repositories/price-repository';
import type { OperationContext } from './operation';

/**
 * Reads the price fields shared by MeterAdd, ChangePrice and BatchChangePrice and checks them
 * against DECISIONS §5.3: mode 100 needs Price1; 101 needs Price1..3, Level1 < Level2 and
 * MonthCount >= 1. Any breach is 80002004.
 */
export function readPriceScheme(
  payload: PayloadObject,
  context: OperationContext,
  options: { monthCountRequired: boolean },
): PriceSchemeValues {
  const mode = readPriceMode(payload);
  const monthCount = optionalInteger(payload, 'MonthCount');
  if (options.monthCountRequired && monthCount === undefined) {
    throw new PlatformError(ReturnCode.MissingOrInvalidField, '传入参数缺少重要字段：MonthCount');
  }

  const values: PriceSchemeValues = {
    tenantId: context.tenant.id,
    priceId: requiredString(payload, 'PriceID', 25),
    version: optionalString(payload, 'Version', 20) ?? '',
    priceMode: mode,
    monthCount: monthCount ?? null,
    iniDate: optionalDate(payload, 'IniDate', context.tenant.timeZone) ?? null,
    price1: requiredAmount(payload, 'Price1').toFixed(4),
    price2: optionalAmount(payload, 'Price2')?.toFixed(4) ?? null,
    price3: optionalAmount(payload, 'Price3')?.toFixed(4) ?? null,
    level1: optionalLevel(payload, 'Level1'),
    level2: optionalLevel(payload, 'Level2'),
  };
  if (mode === 101) assertTieredPriceComplete(values);
  return values;
}

function readPriceMode(payload: PayloadObject): PriceMode {
  const mode = optionalInteger(payload, 'PriceMode');
  if (mode === undefined) {
    throw new PlatformError(ReturnCode.MissingOrInvalidField, '传入参数缺少重要字段：PriceMode');
  }
  if (mode !== 100 && mode !== 101) {
    throw priceError('PriceMode 只能是 100（标准气价）或 101（阶梯气价）');
  }
  return mode;
}

function optionalLevel(payload: PayloadObject, key: string): string | null {
  const level = optionalInteger(payload, key);
  if (level === undefined) return null;
  if (level <= 0) throw priceError(`${key} 必须大于 0`);
  return String(level);
}

function assertTieredPriceComplete(values: PriceSchemeValues): void {
  if (values.price2 === null || values.price3 === null) {
    throw priceError('阶梯气价需要 Price1、Price2、Price3');
  }
  if (values.level1 === null || values.level2 === null) {
    throw priceError('阶梯气价需要 Level1 和 Level2');
  }
  if (BigInt(values.level1) >= BigInt(values.level2)) {
    throw priceError('阶梯气价要求 Level1 小于 Level2');
  }
  if (values.monthCount === null || values.monthCount < 1) {
    throw priceError('阶梯气价要求 MonthCount 不小于 1');
  }
}

/**
 * Stores the scheme, or finds it stored already. A price never changes once stored: the same
 * PriceID and Version with other content is 80002034 (DECISIONS §5.3).
 */
export async function storePriceScheme(
  context: OperationContext,
  values: PriceSchemeValues,
): Promise<PriceSchemeEntity> {
  const stored = await context.store.prices.insertOrGet(values);
  if (!samePriceContent(stored, values)) {
    throw new PlatformError(
      ReturnCode.PriceIdExists,
      `传入参数中价格ID已经存在：PriceID ${values.priceId} Version ${values.version || '(空)'} 的内容与已存储的不同`,
    );
  }
  return stored;
}

function samePriceContent(stored: PriceSchemeEntity, values: PriceSchemeValues): boolean {
  return (
    Number(stored.priceMode) === values.priceMode &&
    (stored.monthCount ?? null) === values.monthCount &&
    (stored.iniDate?.getTime() ?? null) === (values.iniDate?.getTime() ?? null) &&
    sameAmount(stored.price1, values.price1) &&
    sameAmount(stored.price2, values.price2) &&
    sameAmount(stored.price3, values.price3) &&
    (stored.level1 ?? null) === values.level1 &&
    (stored.level2 ?? null) === values.level2
  );
}

function sameAmount(left: string | null, right: string | null): boolean {
  if (left === null || right === null) return left === right;
  return new Exact(left).eq(right);
}

function priceError(detail: string): PlatformError {
  return new PlatformError(ReturnCode.InvalidPrice, `传入参数中价格数据不符合规范：${detail}`);
}

/** The command payload that tells a meter its price (meter-side billing, spec §2). */
export function priceCommandPayload(scheme: PriceSchemeEntity): Record<string, unknown> {
  return {
    priceId: scheme.priceId,
    version: scheme.version,
    priceMode: Number(scheme.priceMode),
    monthCount: scheme.monthCount,
    iniDate: scheme.iniDate?.toISOString() ?? null,
    price1: scheme.price1,
    price2: scheme.price2,
    price3: scheme.price3,
    level1: scheme.level1,
    level2: scheme.level2,
  };
}
