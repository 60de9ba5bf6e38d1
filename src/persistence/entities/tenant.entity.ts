import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { BillingMode } from '../../domain/model';

export type TenantStatus = 'active' | 'disabled';

@Entity('tenant')
export class TenantEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  /** Short ASCII code used in URL prefixes and the CLI. */
  @Column({ type: 'varchar', length: 50, unique: true })
  code!: string;

  /** The `DataFrom` value, e.g. 苍南仪表集团. */
  @Column({ type: 'varchar', length: 50, unique: true })
  name!: string;

  @Column({ name: 'billing_mode', type: 'varchar', length: 10 })
  billingMode!: BillingMode;

  @Column({ type: 'boolean' })
  plaintext!: boolean;

  @Column({ name: 'time_zone', type: 'varchar', length: 64 })
  timeZone!: string;

  @Column({ type: 'varchar', length: 10 })
  status!: TenantStatus;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
