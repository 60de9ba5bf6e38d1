import type { EntityManager } from 'typeorm';
import { InterfaceCallEntity } from '../entities';

export type InterfaceCall = Omit<InterfaceCallEntity, 'id'>;

export class CallLogRepository {
  constructor(private readonly manager: EntityManager) {}

  async record(call: InterfaceCall): Promise<void> {
    await this.manager.insert(InterfaceCallEntity, call);
  }

  recent(limit: number): Promise<InterfaceCallEntity[]> {
    return this.manager.find(InterfaceCallEntity, { order: { id: 'DESC' }, take: limit });
  }
}
