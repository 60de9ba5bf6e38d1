import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One line per CIS call: who, what, answer, how long. Never keys or decrypted payloads. */
@Entity('interface_call')
export class InterfaceCallEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ name: 'tenant_id', type: 'integer', nullable: true })
  tenantId!: number | null;

  @Column({ type: 'varchar', length: 10 })
  transport!: string;

  @Column({ type: 'varchar', length: 30 })
  operation!: string;

  @Column({ name: 'return_code', type: 'integer' })
  returnCode!: number;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs!: number;

  @Column({ name: 'request_id', type: 'varchar', length: 64 })
  requestId!: string;

  @Column({ name: 'remote_address', type: 'varchar', length: 64, nullable: true })
  remoteAddress!: string | null;
}
