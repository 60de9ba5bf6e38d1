import type { EntityManager } from 'typeorm';
import type { Tenant } from '../../domain/model';
import { TenantEntity } from '../entities';

export function toTenant(entity: TenantEntity): Tenant {
  return {
    id: entity.id,
    code: entity.code,
    name: entity.name,
    billingMode: entity.billingMode,
    plaintext: entity.plaintext,
    timeZone: entity.timeZone,
  };
}

export class TenantRepository {
  constructor(private readonly manager: EntityManager) {}

  async findActiveByCode(code: string): Promise<Tenant | undefined> {
    const entity = await this.manager.findOneBy(TenantEntity, { code, status: 'active' });
    return entity ? toTenant(entity) : undefined;
  }

  async findActiveByName(name: string): Promise<Tenant | undefined> {
    const entity = await this.manager.findOneBy(TenantEntity, { name, status: 'active' });
    return entity ? toTenant(entity) : undefined;
  }

  async listActive(): Promise<Tenant[]> {
    const entities = await this.manager.find(TenantEntity, {
      where: { status: 'active' },
      order: { id: 'ASC' },
    });
    return entities.map(toTenant);
  }

  async listAll(): Promise<TenantEntity[]> {
    return this.manager.find(TenantEntity, { order: { id: 'ASC' } });
  }

  async findByCode(code: string): Promise<TenantEntity | null> {
    return this.manager.findOneBy(TenantEntity, { code });
  }

  async insert(tenant: Omit<Tenant, 'id'>): Promise<Tenant> {
    const entity = this.manager.create(TenantEntity, { ...tenant, status: 'active' });
    return toTenant(await this.manager.save(entity));
  }

  async save(entity: TenantEntity): Promise<TenantEntity> {
    return this.manager.save(entity);
  }
}
