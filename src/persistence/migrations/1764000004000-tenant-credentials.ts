import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tenant keys and the replay log of DECISIONS §3.1 and §3.7.
 *
 * `tenant_credential` holds each registration code a tenant was issued, sealed with AES-256-GCM
 * under the platform secret (security/code-sealer.ts), never in clear. A rotated code keeps
 * working until `valid_until`; the current code has none. At most one current code per tenant.
 *
 * `disperse_key_use` holds every DisperseKey a tenant's verified requests used. The primary key
 * is the replay check: a second insert of the same pair fails on it. Rows older than the replay
 * window are deleted, so the table holds at most one window of traffic.
 */
export class TenantCredentials1764000004000 implements MigrationInterface {
  name = 'TenantCredentials1764000004000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE tenant_credential (
        id           serial PRIMARY KEY,
        tenant_id    integer NOT NULL REFERENCES tenant (id),
        -- version byte 01, 12-byte nonce, 32-byte sealed code, 16-byte GCM tag
        sealed_code  bytea NOT NULL CHECK (octet_length(sealed_code) = 61),
        created_at   timestamptz NOT NULL DEFAULT now(),
        valid_until  timestamptz,
        revoked_at   timestamptz
      )`);
    await queryRunner.query(`
      CREATE UNIQUE INDEX tenant_credential_current_key ON tenant_credential (tenant_id)
        WHERE valid_until IS NULL AND revoked_at IS NULL`);

    await queryRunner.query(`
      CREATE TABLE disperse_key_use (
        tenant_id     integer NOT NULL REFERENCES tenant (id),
        disperse_key  char(16) NOT NULL,
        used_at       timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, disperse_key)
      )`);
    await queryRunner.query(`CREATE INDEX disperse_key_use_time_idx ON disperse_key_use (used_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE disperse_key_use`);
    await queryRunner.query(`DROP TABLE tenant_credential`);
  }
}
