import type { EntityManager } from 'typeorm';

/** The kinds of push, as stored in push_outbox.kind. */
export type PushKind = 'reading' | 'alarm';

export type PushState = 'pending' | 'delivered' | 'dead';

/** A push the worker claimed: leased to it until `next_attempt_at` (see `claim`). */
export interface ClaimedPush {
  id: string;
  tenantId: number;
  kind: PushKind;
  requestSerialNo: string;
  /** The message fields frozen at enqueue time (push/outbox.ts), numbers as 4-decimal text. */
  fields: Record<string, string | null>;
  /** This attempt's number, 1 for the first; also the fencing token of `recordFailures`. */
  attempt: number;
  /** Start of the current retry window (queued or resent); the maximum age counts from here. */
  retrySince: Date;
}

/** A failed attempt, as the worker reports it. */
export interface FailedAttempt {
  id: string;
  attempt: number;
  /** The CIS's ReturnCode, 80002032 for no answer, null for an answer that could not be read. */
  code: number | null;
  error: string;
  /** When to try again, unless that is past the maximum age. */
  retryDelayMs: number;
  maxAgeSeconds: number;
}

/** One row as the CLI lists it. */
export interface PushRow {
  id: string;
  tenantId: number;
  tenantCode: string;
  kind: PushKind;
  requestSerialNo: string;
  meterNo: string | null;
  state: PushState;
  attempts: number;
  createdAt: Date;
  lastAttemptAt: Date | null;
  lastCode: number | null;
  lastError: string | null;
  deadAt: Date | null;
}

export interface PushCounts {
  pending: number;
  due: number;
  delivered: number;
  dead: number;
  oldestPendingAt: Date | null;
}

/** What TypeORM's `query` gives for an UPDATE on PostgreSQL: the RETURNING rows and the count. */
type UpdateResult<Row> = [Row[], number];

interface ClaimRow {
  id: string;
  tenant_id: number;
  kind: PushKind;
  request_serial_no: string;
  fields: Record<string, string | null>;
  attempts: number;
  retry_since: Date;
}

/**
 * The SQL of the push outbox's worker and CLI (table push_outbox, migration 1764000006000). The
 * rows are written by push/outbox.ts, in the transaction that stores the reports.
 */
export class PushOutboxRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * Claims up to `limit` due pushes of one tenant, oldest due first. The claim is a lease, not a
   * lock held during the HTTP call: `next_attempt_at` moves `leaseMs` ahead, so the rows are no
   * longer due for any process, and come due again by themselves if this process dies (SIGKILL)
   * before it records the outcome. `FOR UPDATE SKIP LOCKED` lets several processes claim at the
   * same moment without waiting for each other or claiming the same row. Claiming per tenant is
   * what keeps one tenant's backlog or dead CIS out of another tenant's way.
   */
  async claim(tenantId: number, kinds: PushKind[], limit: number, leaseMs: number): Promise<ClaimedPush[]> {
    const [rows] = (await this.manager.query(
      `WITH due AS (
         SELECT id FROM push_outbox
          WHERE tenant_id = $1 AND state = 'pending' AND next_attempt_at <= now()
            AND kind = ANY ($2::text[])
          ORDER BY next_attempt_at, id
          LIMIT $3
          FOR UPDATE SKIP LOCKED
       )
       UPDATE push_outbox AS push
          SET attempts = push.attempts + 1,
              last_attempt_at = now(),
              next_attempt_at = now() + make_interval(secs => $4::double precision / 1000)
         FROM due
        WHERE push.id = due.id
       RETURNING push.id, push.tenant_id, push.kind, push.request_serial_no, push.fields,
                 push.attempts, push.retry_since`,
      [tenantId, kinds, limit, leaseMs],
    )) as UpdateResult<ClaimRow>;

    return rows
      .map((row) => ({
        id: String(row.id),
        tenantId: Number(row.tenant_id),
        kind: row.kind,
        requestSerialNo: row.request_serial_no,
        fields: row.fields,
        attempt: Number(row.attempts),
        retrySince: row.retry_since,
      }))
      .sort((left, right) => Number(BigInt(left.id) - BigInt(right.id)));
  }

  /**
   * Marks pushes delivered; returns the ids that were still pending. `state = 'pending'` makes
   * the transition happen once per row, whichever process (or a late answer to an earlier,
   * timed-out attempt) reports it first.
   */
  async markDelivered(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const [rows] = (await this.manager.query(
      `UPDATE push_outbox
          SET state = 'delivered', delivered_at = now(), last_code = 0, last_error = NULL
        WHERE id = ANY ($1::bigint[]) AND state = 'pending'
       RETURNING id`,
      [ids],
    )) as UpdateResult<{ id: string }>;
    return rows.map((row) => String(row.id));
  }

  /**
   * Reschedules failed attempts with their backoff, or makes them dead letters when the next try
   * would fall after the maximum age. Only the latest claim of a row may do so (`attempts` is the
   * fencing token): an attempt whose lease ran out and was claimed again elsewhere changes nothing.
   * Returns the ids that became dead.
   */
  async recordFailures(failures: FailedAttempt[]): Promise<string[]> {
    if (failures.length === 0) return [];
    const [rows] = (await this.manager.query(
      `WITH failure AS (
         SELECT f.*,
                now() + make_interval(secs => f.retry_delay_ms / 1000) AS retry_at,
                make_interval(secs => f.max_age_seconds) AS max_age
           FROM unnest($1::bigint[], $2::integer[], $3::integer[], $4::text[],
                       $5::double precision[], $6::integer[])
                AS f (id, attempt, code, error, retry_delay_ms, max_age_seconds)
       )
       UPDATE push_outbox AS push
          SET last_code = failure.code,
              last_error = left(failure.error, 500),
              next_attempt_at = failure.retry_at,
              state = CASE WHEN failure.retry_at > push.retry_since + failure.max_age
                           THEN 'dead' ELSE 'pending' END,
              dead_at = CASE WHEN failure.retry_at > push.retry_since + failure.max_age
                             THEN now() END
         FROM failure
        WHERE push.id = failure.id AND push.state = 'pending' AND push.attempts = failure.attempt
       RETURNING push.id, push.state`,
      [
        failures.map((failure) => failure.id),
        failures.map((failure) => failure.attempt),
        failures.map((failure) => failure.code),
        failures.map((failure) => failure.error),
        failures.map((failure) => failure.retryDelayMs),
        failures.map((failure) => failure.maxAgeSeconds),
      ],
    )) as UpdateResult<{ id: string; state: string }>;
    return rows.filter((row) => row.state === 'dead').map((row) => String(row.id));
  }

  /**
   * Gives claimed pushes back at once (the worker is stopping): due again now, attempt uncounted,
   * so that another process or the next start sends them without waiting for the lease.
   */
  async release(claims: Array<{ id: string; attempt: number }>): Promise<void> {
    if (claims.length === 0) return;
    await this.manager.query(
      `UPDATE push_outbox AS push
          SET next_attempt_at = now(), attempts = push.attempts - 1
         FROM unnest($1::bigint[], $2::integer[]) AS claim (id, attempt)
        WHERE push.id = claim.id AND push.state = 'pending' AND push.attempts = claim.attempt`,
      [claims.map((claim) => claim.id), claims.map((claim) => claim.attempt)],
    );
  }

  /**
   * Dead-letters pushes that are past their maximum age without having been attempted lately
   * (their tenant's CIS kept the lane paused, or no worker ran). Leased rows are left alone: their
   * attempt decides. Returns how many.
   */
  async expireOverdue(): Promise<number> {
    const [, count] = (await this.manager.query(
      `UPDATE push_outbox AS push
          SET state = 'dead', dead_at = now(),
              last_error = left(coalesce(push.last_error || '; ', '') ||
                                'maximum age reached without delivery', 500)
         FROM push_settings settings
        WHERE settings.tenant_id = push.tenant_id
          AND push.state = 'pending' AND push.next_attempt_at <= now()
          AND push.retry_since + make_interval(secs => settings.max_age_seconds) <= now()`,
    )) as [unknown, number];
    return count;
  }

  /**
   * The worker's tick, in one round trip: which of these tenants have a push due now (one index
   * probe each), and a value that changes whenever push settings are saved, so that the worker
   * reloads its lanes at once instead of waiting for its periodic refresh.
   */
  async poll(tenantIds: number[]): Promise<{ dueTenantIds: number[]; settingsVersion: string }> {
    const rows: Array<{ due: number[]; version: string }> = await this.manager.query(
      `SELECT ARRAY(SELECT tenant.id FROM unnest($1::integer[]) AS tenant (id)
                     WHERE EXISTS (SELECT 1 FROM push_outbox push
                                    WHERE push.tenant_id = tenant.id AND push.state = 'pending'
                                      AND push.next_attempt_at <= now())) AS due,
              (SELECT count(*) || '@' || coalesce(max(updated_at)::text, '') FROM push_settings) AS version`,
      [tenantIds],
    );
    return { dueTenantIds: (rows[0]?.due ?? []).map(Number), settingsVersion: rows[0]?.version ?? '' };
  }

  async listDead(tenantId: number | undefined, limit: number): Promise<PushRow[]> {
    return this.list(`push.state = 'dead' AND ($1::integer IS NULL OR push.tenant_id = $1)`, [tenantId ?? null], limit);
  }

  async findById(id: string): Promise<PushRow | undefined> {
    const rows = await this.list('push.id = $1', [id], 1);
    return rows[0];
  }

  async findBySerial(requestSerialNo: string): Promise<PushRow | undefined> {
    const rows = await this.list('push.request_serial_no = $1', [requestSerialNo], 1);
    return rows[0];
  }

  /**
   * Puts dead letters back in the queue, due now, with a fresh retry window and their original
   * requestSerialNo (it is the same message: the CIS deduplicates by it). `ids` undefined: every
   * dead letter (of the tenant, if given). Returns the ids resent.
   */
  async resendDead(selection: { ids?: string[]; tenantId?: number }): Promise<string[]> {
    const [rows] = (await this.manager.query(
      `UPDATE push_outbox
          SET state = 'pending', dead_at = NULL, retry_since = now(), next_attempt_at = now(),
              resend_count = resend_count + 1
        WHERE state = 'dead'
          AND ($1::bigint[] IS NULL OR id = ANY ($1::bigint[]))
          AND ($2::integer IS NULL OR tenant_id = $2)
       RETURNING id`,
      [selection.ids ?? null, selection.tenantId ?? null],
    )) as UpdateResult<{ id: string }>;
    return rows.map((row) => String(row.id));
  }

  async counts(tenantId: number): Promise<PushCounts> {
    const rows: Array<Record<string, string | Date | null>> = await this.manager.query(
      `SELECT count(*) FILTER (WHERE state = 'pending') AS pending,
              count(*) FILTER (WHERE state = 'pending' AND next_attempt_at <= now()) AS due,
              count(*) FILTER (WHERE state = 'delivered') AS delivered,
              count(*) FILTER (WHERE state = 'dead') AS dead,
              min(created_at) FILTER (WHERE state = 'pending') AS oldest_pending_at
         FROM push_outbox WHERE tenant_id = $1`,
      [tenantId],
    );
    const row = rows[0] ?? {};
    return {
      pending: Number(row.pending ?? 0),
      due: Number(row.due ?? 0),
      delivered: Number(row.delivered ?? 0),
      dead: Number(row.dead ?? 0),
      oldestPendingAt: (row.oldest_pending_at as Date | null) ?? null,
    };
  }

  /** The latest failed attempts of a tenant, newest first (for `cnmcsp push show`). */
  async recentFailures(tenantId: number, limit: number): Promise<PushRow[]> {
    return this.list(
      `push.tenant_id = $1 AND push.last_error IS NOT NULL AND push.state <> 'delivered'`,
      [tenantId],
      limit,
      'push.last_attempt_at DESC NULLS LAST',
    );
  }

  private async list(where: string, parameters: unknown[], limit: number, order = 'push.id'): Promise<PushRow[]> {
    const rows: Array<Record<string, unknown>> = await this.manager.query(
      `SELECT push.id, push.tenant_id, tenant.code AS tenant_code, push.kind, push.request_serial_no,
              push.fields ->> 'meterNo' AS meter_no, push.state, push.attempts, push.created_at,
              push.last_attempt_at, push.last_code, push.last_error, push.dead_at
         FROM push_outbox push JOIN tenant ON tenant.id = push.tenant_id
        WHERE ${where}
        ORDER BY ${order}
        LIMIT ${Math.max(1, Math.floor(limit))}`,
      parameters,
    );
    return rows.map((row) => ({
      id: String(row.id),
      tenantId: Number(row.tenant_id),
      tenantCode: row.tenant_code as string,
      kind: row.kind as PushKind,
      requestSerialNo: row.request_serial_no as string,
      meterNo: (row.meter_no as string | null) ?? null,
      state: row.state as PushState,
      attempts: Number(row.attempts),
      createdAt: row.created_at as Date,
      lastAttemptAt: (row.last_attempt_at as Date | null) ?? null,
      lastCode: row.last_code === null ? null : Number(row.last_code),
      lastError: (row.last_error as string | null) ?? null,
      deadAt: (row.dead_at as Date | null) ?? null,
    }));
  }
}
