import type { Exact } from '../domain/decimal';
import { assertLedgerFiguresFit } from '../domain/ledger-figures';
import type { LedgerEntryEntity, LedgerKind, MeterEntity } from '../persistence/entities';
import type { OperationContext } from './operation';

/** One movement of money on a meter, as an operation means it. */
export interface Posting {
  meter: MeterEntity;
  kind: LedgerKind;
  /** Signed: what the entry adds to the meter's money (see ledger_entry_amount_sign). */
  amount: Exact;
  tradeNo: string | null;
  operatorName: string;
  occurredAt: Date;
  commandId: string | null;
  /** For a recharge_cancel: the recharge entry it cancels. */
  cancelsEntryId?: string;
}

/**
 * The one way the operations write the money ledger (DECISIONS §4, §5.4): appends the postings,
 * then checks that every meter they touch still has figures that fit NUMBER(16,4)
 * (assertLedgerFiguresFit). If one does not, the operation is refused with 80002002 naming
 * `field`, the request field that carried the amount, and its transaction rolls back whole: these
 * entries and whatever else the operation wrote before them.
 *
 * The postings are appended before the check so that the ledger's constraints answer first: a
 * TradeNo used before is a duplicate (80002033, 80002036), which tells the CIS truthfully that the
 * trade is already recorded, even if the amount would now also overflow. The figures are then
 * read back from the ledger the way ReadCurrentData reads them, so the rule checks exactly what
 * would be answered. Every caller holds the meters it posts to locked, or has just created them,
 * so no other transaction moves these figures before this one ends.
 */
export async function postToLedger(
  context: OperationContext,
  field: string,
  postings: readonly Posting[],
): Promise<LedgerEntryEntity[]> {
  const entries: LedgerEntryEntity[] = [];
  for (const posting of postings) entries.push(await append(context, posting));

  const meters = new Map(postings.map(({ meter }) => [meter.id, meter]));
  const figures = await context.store.ledger.figuresOf([...meters.keys()]);
  for (const [id, meter] of meters) {
    const meterFigures = figures.get(id);
    if (!meterFigures) throw new Error(`no ledger figures for meter ${id}, which was just posted to`);
    assertLedgerFiguresFit(meterFigures, { field, meterId: meter.meterId });
  }

  return entries;
}

function append(context: OperationContext, posting: Posting): Promise<LedgerEntryEntity> {
  const { meter, amount, ...entry } = posting;
  return context.store.ledger.append({
    ...entry,
    tenantId: context.tenant.id,
    meterId: meter.id,
    customerId: meter.customerId,
    amount: amount.toFixed(4),
  });
}
