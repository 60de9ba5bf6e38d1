import type { EntityManager } from 'typeorm';
import { DtuTypeEntity, MeterModelEntity, MeterProtocolEntity } from '../entities';

export class CatalogueRepository {
  constructor(private readonly manager: EntityManager) {}

  findModel(code: string): Promise<MeterModelEntity | null> {
    return this.manager.findOneBy(MeterModelEntity, { code });
  }

  async protocolExists(code: string): Promise<boolean> {
    return this.manager.existsBy(MeterProtocolEntity, { code });
  }

  async dtuTypeExists(code: string): Promise<boolean> {
    return this.manager.existsBy(DtuTypeEntity, { code });
  }

  listModels(): Promise<MeterModelEntity[]> {
    return this.manager.find(MeterModelEntity, { order: { code: 'ASC' } });
  }

  listProtocols(): Promise<MeterProtocolEntity[]> {
    return this.manager.find(MeterProtocolEntity, { order: { code: 'ASC' } });
  }

  listDtuTypes(): Promise<DtuTypeEntity[]> {
    return this.manager.find(DtuTypeEntity, { order: { code: 'ASC' } });
  }

  async saveModel(model: MeterModelEntity): Promise<void> {
    await this.manager.save(MeterModelEntity, model);
  }

  async saveProtocol(protocol: MeterProtocolEntity): Promise<void> {
    await this.manager.save(MeterProtocolEntity, protocol);
  }

  async saveDtuType(dtuType: DtuTypeEntity): Promise<void> {
    await this.manager.save(DtuTypeEntity, dtuType);
  }
}
