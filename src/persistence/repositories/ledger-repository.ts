import type { EntityManager } from 'typeorm';
import { Exact } from '../../domain/decimal';
import type { LedgerFigures } from '../../domain/ledger-figures';
import { LedgerEntryEntity, type LedgerKind } from '../entities';

/**
 * The kinds that make up 累计购气金额 (TotalBuyMoney): the money the CIS put on a meter, net of its
 * corrections. A transfer_out (MeterChange moving the balance to the new meter) is not an
 * un-purchase and is left out, so a replaced meter keeps the total it was bought. A reversal
 * (money whose command failed or expired at the meter) only ever undoes one of the other kinds
 * listed here, so it counts too: the meter never got that money.
 * MeterRepository.findCurrentData sums these kinds for ReadCurrentData too.
 */
export const PURCHASE_KINDS = [
  'opening',
  'recharge',
  'recharge_cancel',
  'refund',
  'deduct',
  'transfer_in',
  'reversal',
] as const satisfies readonly LedgerKind[];

/**
 * The kinds that carry money to the meter with a command: what the meter link reverses when that
 * command fails or expires (REVERSE_UNAPPLIED_MONEY; migration 1764000007000 checks the same list).
 */
export const MONEY_TO_METER_KINDS = [
  'opening',
  'recharge',
  'refund',
  'deduct',
  'transfer_in',
] as const satisfies readonly LedgerKind[];

export interface NewLedgerEntry {
  tenantId: number;
  meterId: string;
  customerId: string;
  kind: LedgerKind;
  tradeNo: string | null;
  /** Signed, numeric(17,4) text: what the entry adds to the meter's money. */
  amount: string;
  operatorName: string | null;
  occurredAt: Date;
  commandId: string | null;
  cancelsEntryId?: string | null;
}

export class LedgerRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * Append-only: the ledger is never updated or deleted. Services append through postToLedger
   * (src/services/ledger-posting.ts), which keeps every meter's figures within NUMBER(16,4).
   */
  async append(entry: NewLedgerEntry): Promise<LedgerEntryEntity> {
    const entity = this.manager.create(LedgerEntryEntity, {
      ...entry,
      cancelsEntryId: entry.cancelsEntryId ?? null,
    });
    return this.manager.save(entity);
  }

  /**
   * The recharge, refund or deduct entry that carries this TradeNo in the tenant, if any. These
   * are the kinds `ledger_entry_trade_no_key` keeps unique, so there is at most one.
   */
  findTrade(tenantId: number, tradeNo: string): Promise<LedgerEntryEntity | null> {
    return this.manager
      .createQueryBuilder(LedgerEntryEntity, 'entry')
      .where('entry.tenant_id = :tenantId AND entry.trade_no = :tradeNo', { tenantId, tradeNo })
      .andWhere(`entry.kind IN ('recharge', 'refund', 'deduct')`)
      .getOne();
  }

  listForMeter(meterId: string): Promise<LedgerEntryEntity[]> {
    return this.manager.find(LedgerEntryEntity, { where: { meterId }, order: { id: 'ASC' } });
  }

  /**
   * The ledger figures of these meters (internal ids), keyed by id, as ReadCurrentData derives
   * them: totalBuyMoney sums the PURCHASE_KINDS, balance sums every entry (amounts are signed, see
   * ledger_entry_amount_sign). Entries this transaction appended count; a meter without entries
   * has zero figures. One statement whatever the number of meters.
   */
  async figuresOf(meterIds: readonly string[]): Promise<Map<string, LedgerFigures>> {
    const rows = (await this.manager.query(
      `SELECT meter.id::text AS "meterId",
              coalesce(sum(entry.amount) FILTER (WHERE entry.kind = ANY($2::text[])), 0)::text AS "totalBuyMoney",
              coalesce(sum(entry.amount), 0)::text AS "balance"
         FROM unnest($1::bigint[]) AS meter (id)
         LEFT JOIN ledger_entry AS entry ON entry.meter_id = meter.id
        GROUP BY meter.id`,
      [meterIds, PURCHASE_KINDS],
    )) as Array<{ meterId: string; totalBuyMoney: string; balance: string }>;

    return new Map(
      rows.map((row) => [
        row.meterId,
        { totalBuyMoney: new Exact(row.totalBuyMoney), balance: new Exact(row.balance) },
      ]),
    );
  }
}
