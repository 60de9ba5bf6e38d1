import type { EntityManager } from 'typeorm';
import type { MeterState } from '../../domain/model';
import { MeterEntity } from '../entities';

export class MeterRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * The meter with this MeterID, its row locked until the transaction ends, so that operations on
   * one meter happen one after another.
   */
  findForUpdate(tenantId: number, meterId: string): Promise<MeterEntity | null> {
    return this.manager
      .createQueryBuilder(MeterEntity, 'meter')
      .where('meter.tenant_id = :tenantId AND meter.meter_id = :meterId', { tenantId, meterId })
      .setLock('pessimistic_write')
      .getOne();
  }

  async existsByMeterIdOrNo(tenantId: number, meterId: string, meterNo: string): Promise<boolean> {
    const count = await this.manager
      .createQueryBuilder(MeterEntity, 'meter')
      .where('meter.tenant_id = :tenantId', { tenantId })
      .andWhere('(meter.meter_id = :meterId OR meter.meter_no = :meterNo)', { meterId, meterNo })
      .getCount();
    return count > 0;
  }

  async customerHasOpenMeter(customerId: string): Promise<boolean> {
    const count = await this.manager
      .createQueryBuilder(MeterEntity, 'meter')
      .where('meter.customer_id = :customerId AND meter.state <> -2', { customerId })
      .getCount();
    return count > 0;
  }

  async insert(values: Partial<MeterEntity>): Promise<MeterEntity> {
    return this.manager.save(this.manager.create(MeterEntity, values));
  }

  async setState(meter: MeterEntity, state: MeterState, extra: Partial<MeterEntity> = {}): Promise<void> {
    await this.manager.update(MeterEntity, { id: meter.id }, { state, ...extra });
    Object.assign(meter, { state, ...extra });
  }
}
