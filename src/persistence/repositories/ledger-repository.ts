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

  listForMeter(meterId: string): Promise<LedgerEntryEntity[]> {
    return this.manager.find(LedgerEntryEntity, { where: { meterId }, order: { id: 'ASC' } });
  }
}
