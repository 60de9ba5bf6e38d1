import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { PriceMode } from '../../domain/model';

/**
 * A gas price (气价), identified by (tenant, PriceID, Version) and immutable once stored
 * (DECISIONS §5.3).
 */
@Entity('price_scheme')
export class PriceSchemeEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'tenant_id', type: 'integer' })
  tenantId!: number;

  @Column({ name: 'price_id', type: 'varchar', length: 25 })
  priceId!: string;

  /** '' when the CIS sent no Version. */
  @Column({ type: 'varchar', length: 20 })
  version!: string;

  @Column({ name: 'price_mode', type: 'smallint' })
  priceMode!: PriceMode;

  @Column({ name: 'month_count', type: 'integer', nullable: true })
  monthCount!: number | null;

  @Column({ name: 'ini_date', type: 'timestamptz', nullable: true })
  iniDate!: Date | null;

  @Column({ type: 'numeric', precision: 16, scale: 4 })
  price1!: string;

  @Column({ type: 'numeric', precision: 16, scale: 4, nullable: true })
  price2!: string | null;

  @Column({ type: 'numeric', precision: 16, scale: 4, nullable: true })
  price3!: string | null;

  @Column({ type: 'bigint', nullable: true })
  level1!: string | null;

  @Column({ type: 'bigint', nullable: true })
  level2!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
