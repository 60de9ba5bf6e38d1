import type { EntityManager } from 'typeorm';
import type { CommandKind, CommandState } from '../persistence/entities';
import { MONEY_TO_METER_KINDS } from '../persistence/repositories/ledger-repository';
import { expiryParameters, type LinkSettings } from './command-policy';
import {
  ACKNOWLEDGE,
  CLAIM_FOR_METERS,
  HEARTBEAT,
  MARK_VALVES_MOVING,
  REARM_ORPHANED_SENDS,
  REGISTER_INSTANCE,
  REVERSE_UNAPPLIED_MONEY,
  SETTLE_ALL,
  SETTLE_FOR_METERS,
  SETTLE_VALVES,
  STOP_INSTANCE,
} from './queue-sql';

/** A command on its way to a meter, as the claim returns it. */
export interface ClaimedCommand {
  id: string;
  meterRowId: string;
  sequence: string;
  kind: CommandKind;
  payload: Record<string, unknown>;
  /** This send's number, 1 for the first. */
  attempt: number;
  correlationId: string;
}

/** A command that reached an end state in a queue statement. */
export interface FinishedCommand {
  id: string;
  meterRowId: string;
  sequence: string;
  kind: CommandKind;
  payload: Record<string, unknown>;
  state: CommandState;
  correlationId: string;
  /** The ledger reversals this command's failure or expiry made (money the meter never got). */
  reversals: LedgerReversal[];
}

/** A `reversal` ledger entry written when a money command failed or expired. */
export interface LedgerReversal {
  entryId: string;
  commandId: string;
  /** The entry it reverses: the recharge, opening, refund, deduct or transfer_in. */
  reversedEntryId: string;
  /** Signed, the opposite of the reversed entry's. */
  amount: string;
  tradeNo: string | null;
}

/** The command kinds that carry money to the meter (see REVERSE_UNAPPLIED_MONEY). */
const MONEY_KINDS: ReadonlySet<CommandKind> = new Set<CommandKind>(['recharge', 'remain_option']);

export interface Acknowledgement {
  meterRowId: string;
  sequence: string;
  applied: boolean;
  message: string | null;
}

interface CommandRow {
  id: string;
  meter_id: string;
  sequence: string;
  kind: CommandKind;
  payload: Record<string, unknown>;
  attempts?: number;
  state?: CommandState;
  correlation_id: string;
}

/**
 * The command queue's repository: runs the statements of queue-sql.ts in the caller's
 * transaction and types their rows. It decides nothing the SQL does not.
 */
export class CommandQueue {
  constructor(
    private readonly manager: EntityManager,
    private readonly settings: LinkSettings,
  ) {}

  /** Expires and fails what can no longer be delivered; `undefined` meters: the whole queue. */
  async settle(meterRowIds?: string[]): Promise<FinishedCommand[]> {
    if (meterRowIds?.length === 0) return [];
    const [kinds, seconds] = expiryParameters();
    const rows = (await this.manager.query(meterRowIds ? SETTLE_FOR_METERS : SETTLE_ALL, [
      meterRowIds ?? null,
      kinds,
      seconds,
      this.settings.maxAttempts,
    ])) as CommandRow[];
    const finished = rows.map(toFinished);
    await this.settleValves(finished);
    await this.reverseUnappliedMoney(finished);
    return finished;
  }

  /** Moves each meter's due head to `sent` and returns it, in meter order. */
  async claim(meterRowIds: string[], instanceId: string): Promise<ClaimedCommand[]> {
    if (meterRowIds.length === 0) return [];
    const [rows] = (await this.manager.query(CLAIM_FOR_METERS, [
      meterRowIds,
      instanceId,
      this.settings.ackTimeoutSeconds,
      this.settings.maxAttempts,
    ])) as [CommandRow[], number];
    const claimed = rows.map(
      (row): ClaimedCommand => ({
        id: row.id,
        meterRowId: row.meter_id,
        sequence: row.sequence,
        kind: row.kind,
        payload: row.payload,
        attempt: row.attempts ?? 0,
        correlationId: row.correlation_id,
      }),
    );
    const valveMeters = claimed.filter((command) => command.kind === 'valve').map((c) => c.meterRowId);
    if (valveMeters.length > 0) await this.manager.query(MARK_VALVES_MOVING, [valveMeters]);
    return claimed;
  }

  /** Records the meters' answers; returns the commands that took them (others were not sent). */
  async acknowledge(acknowledgements: Acknowledgement[]): Promise<FinishedCommand[]> {
    if (acknowledgements.length === 0) return [];
    const [rows] = (await this.manager.query(ACKNOWLEDGE, [
      acknowledgements.map((ack) => ack.meterRowId),
      acknowledgements.map((ack) => ack.sequence),
      acknowledgements.map((ack) => ack.applied),
      acknowledgements.map((ack) => ack.message),
    ])) as [CommandRow[], number];
    const finished = rows.map(toFinished);
    await this.settleValves(finished);
    await this.reverseUnappliedMoney(finished);
    return finished;
  }

  /** Orphaned sends of processes that are gone become due now; returns how many. */
  async rearmOrphanedSends(instanceId: string, exclusive: boolean): Promise<number> {
    const [rows] = (await this.manager.query(REARM_ORPHANED_SENDS, [
      instanceId,
      this.settings.sweepIntervalSeconds * 3,
      exclusive,
    ])) as [unknown[], number];
    return rows.length;
  }

  async registerInstance(instanceId: string, host: string, pid: number): Promise<void> {
    await this.manager.query(REGISTER_INSTANCE, [instanceId, host.slice(0, 255), pid]);
  }

  async heartbeat(instanceId: string): Promise<void> {
    await this.manager.query(HEARTBEAT, [instanceId]);
  }

  async stopInstance(instanceId: string): Promise<void> {
    await this.manager.query(STOP_INSTANCE, [instanceId]);
  }

  /**
   * A money command that failed or expired never put its money on the meter: its ledger entries
   * are reversed, in this transaction, with one statement for all of them. The reversals are
   * attached to the commands for the log.
   */
  private async reverseUnappliedMoney(finished: FinishedCommand[]): Promise<void> {
    const unapplied = finished.filter(
      (command) => MONEY_KINDS.has(command.kind) && (command.state === 'failed' || command.state === 'expired'),
    );
    if (unapplied.length === 0) return;

    const reversals = (await this.manager.query(REVERSE_UNAPPLIED_MONEY, [
      unapplied.map((command) => command.id),
      MONEY_TO_METER_KINDS,
    ])) as LedgerReversal[];

    const byCommand = new Map(unapplied.map((command) => [command.id, command]));
    for (const reversal of reversals) byCommand.get(reversal.commandId)?.reversals.push(reversal);
  }

  /** A finished valve command sets the valve: its action when applied, else the last report. */
  private async settleValves(finished: FinishedCommand[]): Promise<void> {
    const valves = finished.filter((command) => command.kind === 'valve' && command.state !== 'expired');
    if (valves.length === 0) return;
    await this.manager.query(SETTLE_VALVES, [
      valves.map((command) => command.meterRowId),
      valves.map((command) => (command.state === 'succeeded' ? valveStateAfter(command.payload) : null)),
    ]);
  }
}

/** spec §8: 00 closed, 01 open. */
function valveStateAfter(payload: Record<string, unknown>): string {
  return payload.action === 'close' ? '00' : '01';
}

function toFinished(row: CommandRow): FinishedCommand {
  return {
    id: row.id,
    meterRowId: row.meter_id,
    sequence: row.sequence,
    kind: row.kind,
    payload: row.payload,
    state: row.state as CommandState,
    correlationId: row.correlation_id,
    reversals: [],
  };
}
