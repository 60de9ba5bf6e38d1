import { Exact, MAX_DECIMAL_DIGITS, MAX_INTEGER_DIGITS, fitsNumber16x4 } from './decimal';
import { PlatformError } from './errors';
import { ReturnCode } from './return-codes';

/**
 * The money figures the platform derives from one meter's ledger and answers in ReadCurrentData
 * (spec §5.3.7): TotalBuyMoney (累计购气金额) and the ledger balance, which is the meter's
 * RemainMoney until the meter reports its own. The meter is sent the same money as commands and
 * reports totals built from it.
 */
export interface LedgerFigures {
  totalBuyMoney: Exact;
  balance: Exact;
}

/** What a refusal names: the request field that moved the money, and the meter it moved on. */
export interface LedgerMove {
  field: string;
  meterId: string;
}

/** 999999999999.9999, the largest NUMBER(16,4). */
const LARGEST = new Exact(10).pow(MAX_INTEGER_DIGITS).minus(new Exact(10).pow(-MAX_DECIMAL_DIGITS));

/**
 * DECISIONS §4: money is NUMBER(16,4), at most 12 integer digits, and that holds for what the
 * amounts add up to, not only for each amount. A figure out of range is one ReadCurrentData
 * cannot answer as the interface defines it, and one the meter cannot report: the meter link
 * refuses a report whose totals do not fit, so the meter would fall silent for good. An operation
 * whose entries would take a figure of any meter out of range is therefore refused whole,
 * 80002002, saying which figure of which meter and what it would have become.
 */
export function assertLedgerFiguresFit(figures: LedgerFigures, move: LedgerMove): void {
  assertFigureFits('TotalBuyMoney', figures.totalBuyMoney, move);
  assertFigureFits('RemainMoney', figures.balance, move);
}

function assertFigureFits(figure: string, value: Exact, move: LedgerMove): void {
  if (fitsNumber16x4(value)) return;
  const range = `${LARGEST.negated().toFixed(MAX_DECIMAL_DIGITS)} 至 ${LARGEST.toFixed(MAX_DECIMAL_DIGITS)}`;
  throw new PlatformError(
    ReturnCode.TypeConversion,
    `字段不符合规范：${move.field} 将使表具 ${move.meterId} 的 ${figure} 变为 ` +
      `${value.toFixed(MAX_DECIMAL_DIGITS)}，超出 NUMBER(16,4) 的范围（${range}）`,
  );
}
