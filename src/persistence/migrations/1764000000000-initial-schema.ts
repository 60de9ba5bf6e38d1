import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The core schema: tenants, the meter catalogue, users, meters, prices, the money ledger, the
 * command queue, the latest meter report and the interface call log. Every business row carries
 * its tenant (DECISIONS §1: identifiers are unique only within a tenant).
 */
export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE tenant (
        id            serial PRIMARY KEY,
        code          varchar(50) NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9_-]+$'),
        name          varchar(50) NOT NULL UNIQUE,
        billing_mode  varchar(10) NOT NULL DEFAULT 'meter' CHECK (billing_mode IN ('meter', 'system')),
        plaintext     boolean NOT NULL DEFAULT false,
        time_zone     varchar(64) NOT NULL DEFAULT 'Asia/Shanghai',
        status        varchar(10) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
        created_at    timestamptz NOT NULL DEFAULT now()
      )`);

    await queryRunner.query(`
      CREATE TABLE meter_model (
        code                 varchar(50) PRIMARY KEY,
        description          varchar(200) NOT NULL DEFAULT '',
        remote_controllable  boolean NOT NULL DEFAULT true
      )`);
    await queryRunner.query(`
      CREATE TABLE meter_protocol (
        code         varchar(50) PRIMARY KEY,
        description  varchar(200) NOT NULL DEFAULT ''
      )`);
    await queryRunner.query(`
      CREATE TABLE dtu_type (
        code         varchar(50) PRIMARY KEY,
        description  varchar(200) NOT NULL DEFAULT ''
      )`);
    // The spec's own example values (DECISIONS §5.2); operators add their models with the CLI.
    await queryRunner.query(`
      INSERT INTO meter_model (code, description, remote_controllable)
        VALUES ('CNMCPUJE', 'NB-IoT remote meter, meter-side billing', true)`);
    await queryRunner.query(`
      INSERT INTO meter_protocol (code, description) VALUES ('CNModbusV61', 'CN Modbus v6.1')`);
    await queryRunner.query(`
      INSERT INTO dtu_type (code, description) VALUES ('ICJEW', 'default data collector')`);

    await queryRunner.query(`
      CREATE TABLE customer (
        id             bigserial PRIMARY KEY,
        tenant_id      integer NOT NULL REFERENCES tenant (id),
        user_id        varchar(50) NOT NULL,
        user_name      varchar(50) NOT NULL,
        user_type      varchar(20),
        phone          varchar(20),
        full_address   varchar(200),
        room           varchar(20),
        building_name  varchar(100),
        fire_date      timestamptz,
        created_at     timestamptz NOT NULL DEFAULT now(),
        updated_at     timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, user_id)
      )`);

    await queryRunner.query(`
      CREATE TABLE price_scheme (
        id           bigserial PRIMARY KEY,
        tenant_id    integer NOT NULL REFERENCES tenant (id),
        price_id     varchar(25) NOT NULL,
        version      varchar(20) NOT NULL DEFAULT '',
        price_mode   smallint NOT NULL CHECK (price_mode IN (100, 101)),
        month_count  integer,
        ini_date     timestamptz,
        price1       numeric(16,4) NOT NULL,
        price2       numeric(16,4),
        price3       numeric(16,4),
        level1       bigint,
        level2       bigint,
        created_at   timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, price_id, version)
      )`);

    await queryRunner.query(`
      CREATE TABLE meter (
        id                     bigserial PRIMARY KEY,
        tenant_id              integer NOT NULL REFERENCES tenant (id),
        customer_id            bigint NOT NULL REFERENCES customer (id),
        meter_id               varchar(50) NOT NULL,
        meter_no               varchar(50) NOT NULL,
        state                  smallint NOT NULL DEFAULT 0 CHECK (state IN (0, 1, -1, -2)),
        model_code             varchar(50) NOT NULL REFERENCES meter_model (code),
        protocol_code          varchar(50) NOT NULL REFERENCES meter_protocol (code),
        gprs_dtu               varchar(50) NOT NULL,
        dtu_meter_type         varchar(50) NOT NULL,
        gprs_addr              varchar(50) NOT NULL,
        meter_addr             varchar(50) NOT NULL,
        operator_name          varchar(20) NOT NULL,
        area_name              varchar(20) NOT NULL,
        initial_reading        numeric(16,4) NOT NULL DEFAULT 0,
        end_reading            numeric(16,4),
        price_scheme_id        bigint NOT NULL REFERENCES price_scheme (id),
        valve_state            varchar(2) NOT NULL DEFAULT '01',
        last_command_sequence  bigint NOT NULL DEFAULT 0,
        opened_at              timestamptz NOT NULL DEFAULT now(),
        closed_at              timestamptz,
        replaced_by            bigint REFERENCES meter (id),
        created_at             timestamptz NOT NULL DEFAULT now(),
        updated_at             timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, meter_id),
        UNIQUE (tenant_id, meter_no)
      )`);
    await queryRunner.query(`CREATE INDEX meter_customer_idx ON meter (customer_id)`);

    await queryRunner.query(`
      CREATE TABLE meter_command (
        id              bigserial PRIMARY KEY,
        tenant_id       integer NOT NULL REFERENCES tenant (id),
        meter_id        bigint NOT NULL REFERENCES meter (id),
        sequence        bigint NOT NULL,
        kind            varchar(20) NOT NULL,
        payload         jsonb NOT NULL,
        state           varchar(12) NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'sent', 'succeeded', 'failed', 'expired', 'cancelled')),
        attempts        integer NOT NULL DEFAULT 0,
        correlation_id  varchar(64) NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now(),
        sent_at         timestamptz,
        finished_at     timestamptz,
        expires_at      timestamptz,
        result_message  varchar(200),
        UNIQUE (meter_id, sequence)
      )`);
    // The queue only ever looks for unfinished commands; finished ones stay for history.
    await queryRunner.query(`
      CREATE INDEX meter_command_pending_idx ON meter_command (meter_id, sequence)
        WHERE state IN ('queued', 'sent')`);

    await queryRunner.query(`
      CREATE TABLE ledger_entry (
        id                bigserial PRIMARY KEY,
        tenant_id         integer NOT NULL REFERENCES tenant (id),
        meter_id          bigint NOT NULL REFERENCES meter (id),
        customer_id       bigint NOT NULL REFERENCES customer (id),
        kind              varchar(20) NOT NULL CHECK (kind IN ('opening', 'recharge', 'recharge_cancel',
                            'refund', 'deduct', 'transfer_out', 'transfer_in')),
        trade_no          varchar(50),
        amount            numeric(17,4) NOT NULL,
        operator_name     varchar(20),
        occurred_at       timestamptz NOT NULL,
        command_id        bigint REFERENCES meter_command (id),
        cancels_entry_id  bigint UNIQUE REFERENCES ledger_entry (id),
        recorded_at       timestamptz NOT NULL DEFAULT now()
      )`);
    // DECISIONS §5.4: a TradeNo is credited at most once per tenant, across Recharge and
    // RemainOption, whatever the concurrency. The constraint is the guarantee, not a prior read.
    await queryRunner.query(`
      CREATE UNIQUE INDEX ledger_entry_trade_no_key ON ledger_entry (tenant_id, trade_no)
        WHERE kind IN ('recharge', 'refund', 'deduct')`);
    await queryRunner.query(`CREATE INDEX ledger_entry_meter_idx ON ledger_entry (meter_id)`);

    await queryRunner.query(`
      CREATE TABLE meter_snapshot (
        meter_id          bigint PRIMARY KEY REFERENCES meter (id),
        tenant_id         integer NOT NULL REFERENCES tenant (id),
        read_at           timestamptz NOT NULL,
        reading           numeric(16,4) NOT NULL,
        valve_state       varchar(2) NOT NULL,
        temperature       numeric(16,4),
        pressure          numeric(16,4),
        remain_money      numeric(16,4),
        total_used_gas    numeric(16,4),
        total_used_money  numeric(16,4),
        price             numeric(16,4),
        battery_percent   smallint
      )`);

    await queryRunner.query(`
      CREATE TABLE interface_call (
        id              bigserial PRIMARY KEY,
        occurred_at     timestamptz NOT NULL,
        tenant_id       integer REFERENCES tenant (id),
        transport       varchar(10) NOT NULL,
        operation       varchar(30) NOT NULL,
        return_code     integer NOT NULL,
        duration_ms     integer NOT NULL,
        request_id      varchar(64) NOT NULL,
        remote_address  varchar(64)
      )`);
    await queryRunner.query(`CREATE INDEX interface_call_time_idx ON interface_call (occurred_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'interface_call',
      'meter_snapshot',
      'ledger_entry',
      'meter_command',
      'meter',
      'price_scheme',
      'customer',
      'dtu_type',
      'meter_protocol',
      'meter_model',
      'tenant',
    ]) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
  }
}
