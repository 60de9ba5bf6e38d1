import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The meter link (issue 5): what the command queue needs beyond the initial schema, the gateways
 * that reach meters, and what meters report.
 *
 * - `meter_command` gets the delivery bookkeeping: `ack_deadline` (a sent command not acknowledged
 *   by then is due again) and `sent_by` (the platform process that last sent it, so that a
 *   restarted or surviving process can tell which sends were orphaned by a dead one).
 * - `meter_command_event`: every state change of every command, with its time and detail, written
 *   by a trigger so that no code path (CancelRecharge's compare-and-set included) can skip it.
 * - `link_instance`: the platform processes serving the device API, with a heartbeat.
 * - `gateway`: the NB-IoT/GPRS gateways and protocol adapters allowed to speak for a tenant's
 *   meters; the bearer token is stored only as its SHA-256.
 * - `meter_reading`: the time series of reports; `meter_alarm`: what meters raised.
 * - `meter.valve_state_at`: when `valve_state` last changed, so that an older report cannot
 *   overwrite a newer acknowledgement.
 */
export class MeterLink1764000005000 implements MigrationInterface {
  name = 'MeterLink1764000005000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE meter_command
        ADD COLUMN ack_deadline timestamptz,
        ADD COLUMN sent_by      uuid`);
    // The sweep looks for sent commands past their deadline; the partial index stays as small as
    // the commands in flight, not as the history. (Queued commands are found through
    // meter_command_pending_idx.)
    await queryRunner.query(`
      CREATE INDEX meter_command_ack_deadline_idx ON meter_command (ack_deadline)
        WHERE state = 'sent'`);

    await queryRunner.query(`
      CREATE TABLE meter_command_event (
        id           bigserial PRIMARY KEY,
        command_id   bigint NOT NULL REFERENCES meter_command (id),
        occurred_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
        state        varchar(12) NOT NULL,
        attempts     integer NOT NULL,
        detail       varchar(200)
      )`);
    await queryRunner.query(
      `CREATE INDEX meter_command_event_command_idx ON meter_command_event (command_id, id)`,
    );
    // One row per state change, per re-send (the state stays 'sent' but the attempt count moves)
    // and per new result message (a sweep that makes an orphaned send due again). The detail is
    // the command's result_message when the change set a new one.
    //
    // Statement-level triggers with transition tables: one INSERT ... SELECT per statement, so a
    // BatchChangePrice that queues 100,000 commands writes their history in one pass instead of
    // running a function 100,000 times (a row-level trigger cost about three times as much).
    await queryRunner.query(`
      CREATE FUNCTION meter_command_record_inserts() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO meter_command_event (command_id, state, attempts, detail)
          SELECT id, state, attempts, result_message FROM inserted_commands;
        RETURN NULL;
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER meter_command_history_insert
        AFTER INSERT ON meter_command REFERENCING NEW TABLE AS inserted_commands
        FOR EACH STATEMENT EXECUTE FUNCTION meter_command_record_inserts()`);
    await queryRunner.query(`
      CREATE FUNCTION meter_command_record_updates() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO meter_command_event (command_id, state, attempts, detail)
          SELECT after_change.id, after_change.state, after_change.attempts,
                 CASE WHEN after_change.result_message IS DISTINCT FROM before_change.result_message
                      THEN after_change.result_message END
            FROM updated_commands AS after_change
            JOIN previous_commands AS before_change USING (id)
           WHERE after_change.state IS DISTINCT FROM before_change.state
              OR after_change.attempts IS DISTINCT FROM before_change.attempts
              OR after_change.result_message IS DISTINCT FROM before_change.result_message
           ORDER BY after_change.id;
        RETURN NULL;
      END
      $$`);
    // Transition tables allow no column list, so the function itself skips rows whose state,
    // attempts and result did not change.
    await queryRunner.query(`
      CREATE TRIGGER meter_command_history_update
        AFTER UPDATE ON meter_command
        REFERENCING OLD TABLE AS previous_commands NEW TABLE AS updated_commands
        FOR EACH STATEMENT EXECUTE FUNCTION meter_command_record_updates()`);

    await queryRunner.query(`
      CREATE TABLE link_instance (
        id            uuid PRIMARY KEY,
        host          varchar(255) NOT NULL,
        pid           integer NOT NULL,
        started_at    timestamptz NOT NULL DEFAULT now(),
        heartbeat_at  timestamptz NOT NULL DEFAULT now(),
        stopped_at    timestamptz
      )`);

    await queryRunner.query(`
      CREATE TABLE gateway (
        id            serial PRIMARY KEY,
        tenant_id     integer NOT NULL REFERENCES tenant (id),
        name          varchar(100) NOT NULL,
        token_hash    char(64) NOT NULL UNIQUE,
        created_at    timestamptz NOT NULL DEFAULT now(),
        last_seen_at  timestamptz,
        revoked_at    timestamptz,
        UNIQUE (tenant_id, name)
      )`);

    await queryRunner.query(`ALTER TABLE meter ADD COLUMN valve_state_at timestamptz`);
    await queryRunner.query(`ALTER TABLE meter_snapshot ADD COLUMN total_buy_money numeric(16,4)`);

    // The time series. The primary key leads with the meter and includes read_at, so the table can
    // be turned into `PARTITION BY RANGE (read_at)` (a partition's key must be part of every
    // unique index) without changing a query: create the partitioned table with monthly
    // partitions, attach this one as the partition of the months it holds, and rename. A gateway
    // that repeats a report (its answer was lost) meets the key and stores nothing twice.
    await queryRunner.query(`
      CREATE TABLE meter_reading (
        meter_id          bigint NOT NULL REFERENCES meter (id),
        read_at           timestamptz NOT NULL,
        tenant_id         integer NOT NULL REFERENCES tenant (id),
        reading           numeric(16,4) NOT NULL,
        valve_state       varchar(2) NOT NULL,
        temperature       numeric(16,4),
        pressure          numeric(16,4),
        remain_money      numeric(16,4),
        total_buy_money   numeric(16,4),
        total_used_gas    numeric(16,4),
        total_used_money  numeric(16,4),
        price             numeric(16,4),
        battery_percent   smallint,
        gateway_id        integer REFERENCES gateway (id),
        received_at       timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (meter_id, read_at)
      )`);
    // Rows arrive roughly in time order, so a BRIN index serves "everything in this period" at a
    // tiny fraction of a B-tree's size and insert cost.
    await queryRunner.query(`CREATE INDEX meter_reading_time_idx ON meter_reading USING brin (read_at)`);

    await queryRunner.query(`
      CREATE TABLE meter_alarm (
        id           bigserial PRIMARY KEY,
        meter_id     bigint NOT NULL REFERENCES meter (id),
        tenant_id    integer NOT NULL REFERENCES tenant (id),
        alarm_at     timestamptz NOT NULL,
        alarm_type   varchar(30) NOT NULL,
        message      varchar(200) NOT NULL,
        gateway_id   integer REFERENCES gateway (id),
        received_at  timestamptz NOT NULL DEFAULT now(),
        UNIQUE (meter_id, alarm_at, alarm_type)
      )`);
    await queryRunner.query(`CREATE INDEX meter_alarm_time_idx ON meter_alarm (tenant_id, alarm_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE meter_alarm`);
    await queryRunner.query(`DROP TABLE meter_reading`);
    await queryRunner.query(`ALTER TABLE meter_snapshot DROP COLUMN total_buy_money`);
    await queryRunner.query(`ALTER TABLE meter DROP COLUMN valve_state_at`);
    await queryRunner.query(`DROP TABLE gateway`);
    await queryRunner.query(`DROP TABLE link_instance`);
    await queryRunner.query(`DROP TRIGGER meter_command_history_update ON meter_command`);
    await queryRunner.query(`DROP TRIGGER meter_command_history_insert ON meter_command`);
    await queryRunner.query(`DROP FUNCTION meter_command_record_updates()`);
    await queryRunner.query(`DROP FUNCTION meter_command_record_inserts()`);
    await queryRunner.query(`DROP TABLE meter_command_event`);
    await queryRunner.query(`DROP INDEX meter_command_ack_deadline_idx`);
    await queryRunner.query(`ALTER TABLE meter_command DROP COLUMN sent_by, DROP COLUMN ack_deadline`);
  }
}
