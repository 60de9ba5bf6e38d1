import type { EntityManager } from 'typeorm';

/** What an operator sees of the queue (`cnmcsp command list / show`). */
export interface CommandSummary {
  id: string;
  tenant: string;
  meterId: string;
  meterNo: string;
  sequence: string;
  kind: string;
  state: string;
  attempts: number;
  correlationId: string;
  createdAt: Date;
  sentAt: Date | null;
  finishedAt: Date | null;
  resultMessage: string | null;
}

export interface CommandEvent {
  occurredAt: Date;
  state: string;
  attempts: number;
  detail: string | null;
}

export interface CommandFilter {
  tenantCode?: string;
  /** The CIS's MeterID. */
  meterId?: string;
  states?: string[];
  correlationId?: string;
  limit: number;
}

const SUMMARY_COLUMNS = `
  c.id, t.code AS tenant, m.meter_id AS "meterId", m.meter_no AS "meterNo", c.sequence, c.kind,
  c.state, c.attempts, c.correlation_id AS "correlationId", c.created_at AS "createdAt",
  c.sent_at AS "sentAt", c.finished_at AS "finishedAt", c.result_message AS "resultMessage"`;

export class CommandHistory {
  constructor(private readonly manager: EntityManager) {}

  /** Newest first. */
  async list(filter: CommandFilter): Promise<CommandSummary[]> {
    return (await this.manager.query(
      `SELECT ${SUMMARY_COLUMNS}
         FROM meter_command AS c
         JOIN meter AS m ON m.id = c.meter_id
         JOIN tenant AS t ON t.id = c.tenant_id
        WHERE ($1::text IS NULL OR t.code = $1)
          AND ($2::text IS NULL OR m.meter_id = $2)
          AND ($3::text[] IS NULL OR c.state = ANY($3))
          AND ($4::text IS NULL OR c.correlation_id = $4)
        ORDER BY c.id DESC
        LIMIT $5`,
      [filter.tenantCode ?? null, filter.meterId ?? null, filter.states ?? null, filter.correlationId ?? null, filter.limit],
    )) as CommandSummary[];
  }

  async show(id: string): Promise<{ command: CommandSummary & { payload: unknown }; events: CommandEvent[] } | undefined> {
    const [command] = (await this.manager.query(
      `SELECT ${SUMMARY_COLUMNS}, c.payload
         FROM meter_command AS c
         JOIN meter AS m ON m.id = c.meter_id
         JOIN tenant AS t ON t.id = c.tenant_id
        WHERE c.id = $1`,
      [id],
    )) as Array<CommandSummary & { payload: unknown }>;
    if (!command) return undefined;
    const events = (await this.manager.query(
      `SELECT occurred_at AS "occurredAt", state, attempts, detail
         FROM meter_command_event WHERE command_id = $1 ORDER BY id`,
      [id],
    )) as CommandEvent[];
    return { command, events };
  }
}
