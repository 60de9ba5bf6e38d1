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

/** One command for each of many meters, all alike (BatchChangePrice). */
export interface BulkPriceChange {
  tenantId: number;
  /** MeterIDs of this tenant, checked and locked by the caller. A repeated one counts once. */
  meterIds: string[];
  priceSchemeId: string;
  changedAt: Date;
  /** The `price_change` payload every meter receives. */
  payload: Record<string, unknown>;
  correlationId: string;
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

  /**
   * Re-prices many meters and queues one `price_change` for each, in one statement whatever
   * their number (issue 3: set-based batches). The UPDATE that moves each meter to the new price
   * also takes its next command sequence, exactly as `enqueue` does for one meter, and the INSERT
   * queues the commands from what it returned; a meter named twice is updated, and queued, once.
   * The MeterIDs travel as one array parameter, so PostgreSQL's limit of 65535 bind parameters
   * never applies. The caller holds the meter rows locked
   * (MeterRepository.lockAndFindFirstUnfitPair), so no other sequence can slip in between.
   *
   * Returns how many commands were queued: one per distinct meter.
   */
  async enqueuePriceChanges(change: BulkPriceChange): Promise<number> {
    const rows = (await this.manager.query(
      `WITH advanced AS (
         UPDATE meter
            SET last_command_sequence = meter.last_command_sequence + 1,
                price_scheme_id = $3,
                price_changed_at = $4,
                updated_at = now()
          WHERE meter.tenant_id = $1 AND meter.meter_id = ANY($2::text[])
         RETURNING meter.id, meter.last_command_sequence
       ), queued AS (
         INSERT INTO meter_command
                (tenant_id, meter_id, sequence, kind, payload, state, attempts, correlation_id)
         SELECT $1, advanced.id, advanced.last_command_sequence, 'price_change', $5::jsonb,
                'queued', 0, $6
           FROM advanced
         RETURNING 1
       )
       SELECT count(*)::int AS queued FROM queued`,
      [
        change.tenantId,
        change.meterIds,
        change.priceSchemeId,
        change.changedAt,
        JSON.stringify(change.payload),
        change.correlationId,
      ],
    )) as Array<{ queued: number }>;
    return rows[0]?.queued ?? 0;
  }

  /**
   * CancelRecharge's compare-and-set (DECISIONS §5.4): a command is cancelled only while it is
   * still queued. The meter link moves a command on with a conditional UPDATE of the same row, so
   * whichever commits first wins and the other matches no row. False: it was already sent,
   * finished or cancelled.
   */
  async cancelIfQueued(commandId: string): Promise<boolean> {
    const [, affected] = (await this.manager.query(
      `UPDATE meter_command SET state = 'cancelled', finished_at = now()
        WHERE id = $1 AND state = 'queued'`,
      [commandId],
    )) as [unknown[], number];
    return affected === 1;
  }

  /**
   * Cancels every command still queued on a meter that is being closed (MeterDelete, or the old
   * meter of MeterChange), in one statement whatever their number. `reason` becomes each
   * command's result_message, which the history trigger records as the detail of its
   * `cancelled` event; the caller puts the closing request's correlation id in it, since the
   * command keeps the correlation id of the request that queued it.
   *
   * The same compare-and-set as `cancelIfQueued`: a command the meter link has already moved to
   * `sent` no longer matches and is left alone. It is in flight and cannot be recalled; the meter
   * may still apply it, and its acknowledgement or timeout finishes it as usual. The caller holds
   * the meter row locked, so no command can be queued behind this statement's back.
   *
   * Returns how many commands were cancelled.
   */
  async cancelQueuedForMeter(meterId: string, reason: string): Promise<number> {
    const [, affected] = (await this.manager.query(
      `UPDATE meter_command SET state = 'cancelled', finished_at = now(), result_message = left($2, 200)
        WHERE meter_id = $1 AND state = 'queued'`,
      [meterId, reason],
    )) as [unknown[], number];
    return affected;
  }

  findById(id: string): Promise<MeterCommandEntity | null> {
    return this.manager.findOneBy(MeterCommandEntity, { id });
  }

  listForMeter(meter: Pick<MeterEntity, 'id'>): Promise<MeterCommandEntity[]> {
    return this.manager.find(MeterCommandEntity, {
      where: { meterId: meter.id },
      order: { sequence: 'ASC' },
    });
  }
}
