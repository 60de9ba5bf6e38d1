import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A gas user (用户) of one tenant, identified by the CIS's `UserID`. */
@Entity('customer')
export class CustomerEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'tenant_id', type: 'integer' })
  tenantId!: number;

  @Column({ name: 'user_id', type: 'varchar', length: 50 })
  userId!: string;

  @Column({ name: 'user_name', type: 'varchar', length: 50 })
  userName!: string;

  @Column({ name: 'user_type', type: 'varchar', length: 20, nullable: true })
  userType!: string | null;

  @Column({ type: 'varchar', length: 20, nullable: true })
  phone!: string | null;

  @Column({ name: 'full_address', type: 'varchar', length: 200, nullable: true })
  fullAddress!: string | null;

  @Column({ name: 'room', type: 'varchar', length: 20, nullable: true })
  room!: string | null;

  @Column({ name: 'building_name', type: 'varchar', length: 100, nullable: true })
  buildingName!: string | null;

  @Column({ name: 'fire_date', type: 'timestamptz', nullable: true })
  fireDate!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
