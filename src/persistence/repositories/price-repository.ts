import type { EntityManager } from 'typeorm';
import { PriceSchemeEntity } from '../entities';

export type PriceSchemeValues = Omit<PriceSchemeEntity, 'id' | 'createdAt'>;

export class PriceRepository {
  constructor(private readonly manager: EntityManager) {}

  find(tenantId: number, priceId: string, version: string): Promise<PriceSchemeEntity | null> {
    return this.manager.findOneBy(PriceSchemeEntity, { tenantId, priceId, version });
  }

  findById(id: string): Promise<PriceSchemeEntity | null> {
    return this.manager.findOneBy(PriceSchemeEntity, { id });
  }

  /**
   * Inserts the scheme unless (tenant, PriceID, Version) is stored already; in both cases returns
   * the stored row. Concurrent inserts of the same key meet at the unique constraint.
   */
  async insertOrGet(values: PriceSchemeValues): Promise<PriceSchemeEntity> {
    await this.manager
      .createQueryBuilder()
      .insert()
      .into(PriceSchemeEntity)
      .values(values)
      .orIgnore()
      .execute();

    const stored = await this.find(values.tenantId, values.priceId, values.version);
    if (!stored) throw new Error('price scheme vanished after insert');
    return stored;
  }
}
