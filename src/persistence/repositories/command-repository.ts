import type { EntityManager } from 'typeorm';
import { MeterCommandEntity, MeterEntity, type CommandKind } from '../entities';

export interface NewCommand {
  tenantId: number;
  meterId: string;
  kind: CommandKind;
  payload: Record<string, unknown>;
  correlationId: string;
  expiresAt?: Date | null;
}

export class CommandRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * Queues a command behind the meter's earlier ones. The sequence comes from the meter row,
   * which the caller holds locked, so sequences per meter only grow and never repeat.
   */
  async enqueue(command: NewCommand): Promise<MeterCommandEntity> {
    const result = await this.manager
      .createQueryBuilder()
      .update(MeterEntity)
      .set({ lastCommandSequence: () => 'last_command_sequence + 1' })
      .where('id = :id', { id: command.meterId })
      .returning('last_command_sequence')
      .execute();
    const sequence = (result.raw as Array<{ last_command_sequence: string }>)[0]?.last_command_sequence;
    if (sequence === undefined) throw new Error(`meter ${command.meterId} not found`);

    const entity = this.manager.create(MeterCommandEntity, {
      tenantId: command.tenantId,
      meterId: command.meterId,
      sequence: String(sequence),
      kind: command.kind,
      payload: command.payload,
      state: 'queued',
      attempts: 0,
      correlationId: command.correlationId,
      expiresAt: command.expiresAt ?? null,
    });
    return this.manager.save(entity);
  }

  listForMeter(meter: Pick<MeterEntity, 'id'>): Promise<MeterCommandEntity[]> {
    return this.manager.find(MeterCommandEntity, {
      where: { meterId: meter.id },
      order: { sequence: 'ASC' },
    });
  }
}
