import { formatFourDecimals } from '../domain/decimal';
import { JsonNumber, type JsonOutput } from '../domain/json-output';
import { MeterStates, type Tenant } from '../domain/model';
import type { PayloadObject } from '../domain/payload';
import type { CurrentDataRow } from '../persistence/repositories/meter-repository';
import { mismatchedPairError, readMeterPairs } from './meter-pairs';
import type { OperationContext, OperationResult } from './operation';

/**
 * spec §5.3.7 ReadCurrentData: the latest figures of any number of meters, in one query whatever
 * their number, all or nothing (DECISIONS §5.5). It changes nothing, and answers for closed and
 * suspended meters too (DECISIONS §5.1).
 *
 * Where each figure comes from (docs/operations.md says the same for CIS engineers):
 * - Reading and ReadTime: the meter's latest report; for a meter replaced by MeterChange, the end
 *   reading the CIS gave (OldENDREADING) at the change time; for a meter that never reported, its
 *   opening reading at the opening time (DECISIONS §5.5).
 * - ValveState: `meter.valve_state`, the platform's best knowledge, kept by the meter link.
 * - Temperature, Pressure, TotalUsedGas, TotalUsedMoney: the latest report; null before one.
 * - TotalBuyMoney: from the ledger (MeterRepository.findCurrentData defines it exactly).
 * - RemainMoney: what the meter last reported; before a report, the ledger balance.
 * - Price: what the meter last reported; before a report, the first price of its scheme.
 * A system-side billing tenant's platform keeps no money (DECISIONS §5.6): its money figures
 * are the meter's own, or null.
 */
export async function readCurrentData(payload: PayloadObject, context: OperationContext): Promise<OperationResult> {
  const pairs = readMeterPairs(payload);

  const rows = await context.store.meters.findCurrentData(context.tenant.id, pairs, context.tenant.timeZone);
  const mismatch = rows.findIndex((row) => row.meterKey === null || row.ownerUserId !== row.userId);
  if (mismatch >= 0) {
    const { userId, meterId } = rows[mismatch] as CurrentDataRow;
    throw mismatchedPairError(mismatch + 1, userId, meterId);
  }

  return { ReadingData: rows.map((row) => readingData(row, context.tenant)) };
}

/** One element of `ReadingData`, every field of spec §5.3.7 in its order, then MeterState. */
function readingData(row: CurrentDataRow, tenant: Tenant): JsonOutput {
  const reported = row.reportedAt !== null;
  const platformBills = tenant.billingMode === 'meter';
  const reading = currentReading(row);

  return {
    UserID: row.userId,
    MeterID: row.meterId,
    ReadTime: reading.at,
    Reading: decimal(reading.value),
    ValveState: row.valveState,
    Temperature: decimal(row.temperature),
    Pressure: decimal(row.pressure),
    TotalBuyMoney: platformBills ? decimal(row.totalBuyMoney) : null,
    RemainMoney: decimal(reported || !platformBills ? row.reportedRemainMoney : row.ledgerBalance),
    TotalUsedGas: decimal(row.totalUsedGas),
    TotalUsedMoney: decimal(row.totalUsedMoney),
    Price: decimal(reported ? row.reportedPrice : row.schemePrice1),
    MeterState: row.state,
  };
}

function currentReading(row: CurrentDataRow): { value: string | null; at: string | null } {
  if (row.state === MeterStates.Closed && row.endReading !== null && row.closedAt !== null) {
    return { value: row.endReading, at: row.closedAt };
  }
  if (row.reportedAt !== null) return { value: row.reportedReading, at: row.reportedAt };
  return { value: row.initialReading, at: row.openedAt };
}

/** Money and readings: a JSON number with exactly four decimals (DECISIONS §4), or null. */
function decimal(text: string | null): JsonNumber | null {
  return text === null ? null : new JsonNumber(formatFourDecimals(text));
}
