import type { EntityManager } from 'typeorm';
import { CustomerEntity } from '../entities';

export type CustomerDetails = Pick<
  CustomerEntity,
  'userName' | 'userType' | 'phone' | 'fullAddress' | 'room' | 'buildingName' | 'fireDate'
>;

export class CustomerRepository {
  constructor(private readonly manager: EntityManager) {}

  findByUserId(tenantId: number, userId: string): Promise<CustomerEntity | null> {
    return this.manager.findOneBy(CustomerEntity, { tenantId, userId });
  }

  async insert(tenantId: number, userId: string, details: CustomerDetails): Promise<CustomerEntity> {
    const entity = this.manager.create(CustomerEntity, { tenantId, userId, ...details });
    return this.manager.save(entity);
  }

  /** Writes only the fields given; `undefined` leaves a field as it is. */
  async update(customer: CustomerEntity, changes: Partial<CustomerDetails>): Promise<void> {
    const defined = Object.fromEntries(
      Object.entries(changes).filter(([, value]) => value !== undefined),
    );
    if (Object.keys(defined).length === 0) return;
    await this.manager.update(CustomerEntity, { id: customer.id }, defined);
  }
}
