import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The latest report of one meter, kept for ReadCurrentData (spec §5.3.7). */
@Entity('meter_snapshot')
export class MeterSnapshotEntity {
  @PrimaryColumn({ name: 'meter_id', type: 'bigint' })
  meterId!: string;

  @Column({ name: 'tenant_id', type: 'integer' })
  tenantId!: number;

  @Column({ name: 'read_at', type: 'timestamptz' })
  readAt!: Date;

  @Column({ type: 'numeric', precision: 16, scale: 4 })
  reading!: string;

  @Column({ name: 'valve_state', type: 'varchar', length: 2 })
  valveState!: string;

  @Column({ type: 'numeric', precision: 16, scale: 4, nullable: true })
  temperature!: string | null;

  @Column({ type: 'numeric', precision: 16, scale: 4, nullable: true })
  pressure!: string | null;

  @Column({ name: 'remain_money', type: 'numeric', precision: 16, scale: 4, nullable: true })
  remainMoney!: string | null;

  @Column({ name: 'total_used_gas', type: 'numeric', precision: 16, scale: 4, nullable: true })
  totalUsedGas!: string | null;

  @Column({ name: 'total_used_money', type: 'numeric', precision: 16, scale: 4, nullable: true })
  totalUsedMoney!: string | null;

  @Column({ type: 'numeric', precision: 16, scale: 4, nullable: true })
  price!: string | null;

  @Column({ name: 'battery_percent', type: 'smallint', nullable: true })
  batteryPercent!: number | null;
}
