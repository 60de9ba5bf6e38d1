import type { EntityManager } from 'typeorm';
import { LedgerEntryEntity, type LedgerKind } from '../entities';

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

  /** Append-only: the ledger is never updated or deleted. */
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
}
