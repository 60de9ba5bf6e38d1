import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { MeterState, ValveState } from '../../domain/model';

@Entity('meter')
export class MeterEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'tenant_id', type: 'integer' })
  tenantId!: number;

  @Column({ name: 'customer_id', type: 'bigint' })
  customerId!: string;

  @Column({ name: 'meter_id', type: 'varchar', length: 50 })
  meterId!: string;

  @Column({ name: 'meter_no', type: 'varchar', length: 50 })
  meterNo!: string;

  @Column({ type: 'smallint' })
  state!: MeterState;

  @Column({ name: 'model_code', type: 'varchar', length: 50 })
  modelCode!: string;

  @Column({ name: 'protocol_code', type: 'varchar', length: 50 })
  protocolCode!: string;

  @Column({ name: 'gprs_dtu', type: 'varchar', length: 50 })
  gprsDtu!: string;

  @Column({ name: 'dtu_meter_type', type: 'varchar', length: 50 })
  dtuMeterType!: string;

  @Column({ name: 'gprs_addr', type: 'varchar', length: 50 })
  gprsAddr!: string;

  @Column({ name: 'meter_addr', type: 'varchar', length: 50 })
  meterAddr!: string;

  @Column({ name: 'operator_name', type: 'varchar', length: 20 })
  operatorName!: string;

  @Column({ name: 'area_name', type: 'varchar', length: 20 })
  areaName!: string;

  /** numeric(16,4), kept as text: money and readings never pass through a float (DECISIONS §4). */
  @Column({ name: 'initial_reading', type: 'numeric', precision: 16, scale: 4 })
  initialReading!: string;

  @Column({ name: 'end_reading', type: 'numeric', precision: 16, scale: 4, nullable: true })
  endReading!: string | null;

  @Column({ name: 'price_scheme_id', type: 'bigint' })
  priceSchemeId!: string;

  @Column({ name: 'valve_state', type: 'varchar', length: 2 })
  valveState!: ValveState;

  /** Highest command sequence issued to this meter; only grows (see the command queue). */
  @Column({ name: 'last_command_sequence', type: 'bigint' })
  lastCommandSequence!: string;

  @Column({ name: 'opened_at', type: 'timestamptz' })
  openedAt!: Date;

  @Column({ name: 'closed_at', type: 'timestamptz', nullable: true })
  closedAt!: Date | null;

  @Column({ name: 'replaced_by', type: 'bigint', nullable: true })
  replacedBy!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
