import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Kinds of money movement on a meter's account. `amount` is signed: what the entry adds to the
 * money the meter holds.
 */
export type LedgerKind =
  | 'opening' // MeterAdd PreSaving
  | 'recharge' // Recharge
  | 'recharge_cancel' // CancelRecharge (negative)
  | 'refund' // RemainOption 1000, 返充
  | 'deduct' // RemainOption 2000, 补扣 (negative)
  | 'transfer_out' // MeterChange, balance leaving the old meter (negative)
  | 'transfer_in' // MeterChange, balance arriving on the new meter
  | 'reversal'; // the opposite of an entry whose command failed or expired at the meter

/** One line of the append-only money ledger: rows are inserted, never updated or deleted. */
@Entity('ledger_entry')
export class LedgerEntryEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'tenant_id', type: 'integer' })
  tenantId!: number;

  @Column({ name: 'meter_id', type: 'bigint' })
  meterId!: string;

  @Column({ name: 'customer_id', type: 'bigint' })
  customerId!: string;

  @Column({ type: 'varchar', length: 20 })
  kind!: LedgerKind;

  @Column({ name: 'trade_no', type: 'varchar', length: 50, nullable: true })
  tradeNo!: string | null;

  @Column({ type: 'numeric', precision: 17, scale: 4 })
  amount!: string;

  @Column({ name: 'operator_name', type: 'varchar', length: 20, nullable: true })
  operatorName!: string | null;

  /** The business time the CIS gave (RechargeTime, OptionTime...). */
  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ name: 'command_id', type: 'bigint', nullable: true })
  commandId!: string | null;

  /**
   * For a recharge_cancel: the recharge it cancels; for a reversal: the entry it reverses. Unique,
   * so an entry is withdrawn at most once.
   */
  @Column({ name: 'cancels_entry_id', type: 'bigint', nullable: true })
  cancelsEntryId!: string | null;

  @CreateDateColumn({ name: 'recorded_at', type: 'timestamptz' })
  recordedAt!: Date;
}
