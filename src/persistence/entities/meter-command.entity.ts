import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type CommandKind =
  | 'open_account'
  | 'recharge'
  | 'price_change'
  | 'valve'
  | 'remain_option'
  | 'close_account';

export type CommandState = 'queued' | 'sent' | 'succeeded' | 'failed' | 'expired' | 'cancelled';

/**
 * A command (指令) waiting for, or delivered to, one meter. Written in the same transaction as the
 * business change that needs it; delivered in `sequence` order by the meter link.
 */
@Entity('meter_command')
export class MeterCommandEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'tenant_id', type: 'integer' })
  tenantId!: number;

  @Column({ name: 'meter_id', type: 'bigint' })
  meterId!: string;

  /** Per-meter, strictly increasing; the meter applies each sequence at most once. */
  @Column({ type: 'bigint' })
  sequence!: string;

  @Column({ type: 'varchar', length: 20 })
  kind!: CommandKind;

  @Column({ type: 'jsonb' })
  payload!: Record<string, unknown>;

  @Column({ type: 'varchar', length: 12 })
  state!: CommandState;

  @Column({ type: 'integer' })
  attempts!: number;

  @Column({ name: 'correlation_id', type: 'varchar', length: 64 })
  correlationId!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  @Column({ name: 'result_message', type: 'varchar', length: 200, nullable: true })
  resultMessage!: string | null;
}
