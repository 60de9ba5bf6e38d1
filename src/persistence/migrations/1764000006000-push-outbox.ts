import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Pushes to the CIS (spec §6, DECISIONS §5.7, issue 6).
 *
 * - `push_settings`: where and how each tenant wants its readings and alarms, one row per tenant.
 *   A kind whose URL is NULL is not pushed at all (no outbox rows are written for it).
 * - `push_outbox`: one row per message, written in the same transaction as the report or alarm it
 *   carries, so a stored report always has its push and a rolled-back one never has. The message
 *   fields are frozen in `fields` when the row is written; the worker only adds the envelope.
 *
 * `request_serial_no` comes from a sequence that never cycles, so a value is never issued twice,
 * even after old rows are purged; the UNIQUE constraint is the second line of defence.
 */
export class PushOutbox1764000006000 implements MigrationInterface {
  name = 'PushOutbox1764000006000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE push_settings (
        tenant_id        integer PRIMARY KEY REFERENCES tenant (id),
        reading_url      varchar(500),
        alarm_url        varchar(500),
        format           varchar(4) NOT NULL DEFAULT 'rest' CHECK (format IN ('rest', 'soap')),
        timeout_ms       integer NOT NULL DEFAULT 10000 CHECK (timeout_ms BETWEEN 100 AND 600000),
        concurrency      integer NOT NULL DEFAULT 8 CHECK (concurrency BETWEEN 1 AND 256),
        max_age_seconds  integer NOT NULL DEFAULT 604800 CHECK (max_age_seconds >= 1),
        backoff_base_ms  integer NOT NULL DEFAULT 1000 CHECK (backoff_base_ms >= 1),
        backoff_max_ms   integer NOT NULL DEFAULT 300000 CHECK (backoff_max_ms >= backoff_base_ms),
        updated_at       timestamptz NOT NULL DEFAULT now()
      )`);

    await queryRunner.query(`CREATE SEQUENCE push_request_serial NO CYCLE`);
    await queryRunner.query(`
      CREATE TABLE push_outbox (
        id                 bigserial PRIMARY KEY,
        tenant_id          integer NOT NULL REFERENCES tenant (id),
        kind               varchar(10) NOT NULL CHECK (kind IN ('reading', 'alarm')),
        request_serial_no  varchar(50) NOT NULL UNIQUE DEFAULT
                             to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD')
                             || lpad(nextval('push_request_serial')::text, 12, '0'),
        meter_id           bigint NOT NULL REFERENCES meter (id),
        occurred_at        timestamptz NOT NULL,
        fields             jsonb NOT NULL,
        state              varchar(10) NOT NULL DEFAULT 'pending'
                           CHECK (state IN ('pending', 'delivered', 'dead')),
        attempts           integer NOT NULL DEFAULT 0,
        created_at         timestamptz NOT NULL DEFAULT now(),
        retry_since        timestamptz NOT NULL DEFAULT now(),
        next_attempt_at    timestamptz NOT NULL DEFAULT now(),
        last_attempt_at    timestamptz,
        last_code          integer,
        last_error         varchar(500),
        delivered_at       timestamptz,
        dead_at            timestamptz,
        resend_count       integer NOT NULL DEFAULT 0
      )`);
    // The worker's claim query reads only due rows of one tenant; delivered rows stay for history.
    await queryRunner.query(`
      CREATE INDEX push_outbox_due_idx ON push_outbox (tenant_id, next_attempt_at, id)
        WHERE state = 'pending'`);
    await queryRunner.query(`
      CREATE INDEX push_outbox_dead_idx ON push_outbox (tenant_id, id) WHERE state = 'dead'`);
    await queryRunner.query(`CREATE INDEX push_outbox_meter_idx ON push_outbox (meter_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE push_outbox`);
    await queryRunner.query(`DROP SEQUENCE push_request_serial`);
    await queryRunner.query(`DROP TABLE push_settings`);
  }
}
