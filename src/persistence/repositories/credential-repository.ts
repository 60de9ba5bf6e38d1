import type { EntityManager } from 'typeorm';
import type { Tenant } from '../../domain/model';
import { TenantEntity } from '../entities';
import { toTenant } from './tenant-repository';

/** A registration code as stored: sealed, never in clear (security/code-sealer.ts). */
export interface StoredCredential {
  id: number;
  tenantId: number;
  sealedCode: Buffer;
  createdAt: Date;
  /** Set when the code was rotated away: it keeps working until then. Null for the current code. */
  validUntil: Date | null;
  revokedAt: Date | null;
}

interface CredentialRow {
  id: number;
  tenant_id: number;
  sealed_code: Buffer;
  created_at: Date;
  valid_until: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'c.id, c.tenant_id, c.sealed_code, c.created_at, c.valid_until, c.revoked_at';

/** A code verifies requests while it is neither revoked nor past its overlap (database time). */
const USABLE = `c.revoked_at IS NULL AND (c.valid_until IS NULL OR c.valid_until > now())`;

/**
 * Tenant registration codes and the replay log of DECISIONS §3.7 (migration 1764000004000).
 * Validity is always decided by the database clock, so that every platform process and the CLI
 * agree on when an overlap ends.
 */
export class CredentialRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * The codes that verify requests now, of active tenants: all of them, or one tenant's. The
   * current code of each tenant comes first, as the one most likely to match.
   */
  async listUsable(tenantId?: number): Promise<StoredCredential[]> {
    const rows: CredentialRow[] = await this.manager.query(
      `SELECT ${COLUMNS}
         FROM tenant_credential c JOIN tenant t ON t.id = c.tenant_id
        WHERE t.status = 'active' AND ${USABLE} AND ($1::integer IS NULL OR c.tenant_id = $1)
        ORDER BY c.valid_until IS NULL DESC, c.id DESC`,
      [tenantId ?? null],
    );
    return rows.map(toCredential);
  }

  /** Usable codes of every tenant, active or disabled: what must open at startup. */
  async listUsableOfAllTenants(): Promise<StoredCredential[]> {
    const rows: CredentialRow[] = await this.manager.query(
      `SELECT ${COLUMNS} FROM tenant_credential c WHERE ${USABLE} ORDER BY c.id`,
    );
    return rows.map(toCredential);
  }

  async listForTenant(tenantId: number): Promise<StoredCredential[]> {
    const rows: CredentialRow[] = await this.manager.query(
      `SELECT ${COLUMNS} FROM tenant_credential c WHERE c.tenant_id = $1 ORDER BY c.id`,
      [tenantId],
    );
    return rows.map(toCredential);
  }

  async findById(id: number): Promise<StoredCredential | undefined> {
    const rows: CredentialRow[] = await this.manager.query(
      `SELECT ${COLUMNS} FROM tenant_credential c WHERE c.id = $1`,
      [id],
    );
    return rows[0] ? toCredential(rows[0]) : undefined;
  }

  /** The tenant's current code: the one its answers and pushes are sealed with. */
  async findCurrent(tenantId: number): Promise<StoredCredential | undefined> {
    const rows: CredentialRow[] = await this.manager.query(
      `SELECT ${COLUMNS} FROM tenant_credential c
        WHERE c.tenant_id = $1 AND c.valid_until IS NULL AND c.revoked_at IS NULL`,
      [tenantId],
    );
    return rows[0] ? toCredential(rows[0]) : undefined;
  }

  /** Fails on tenant_credential_current_key when the tenant already has a current code. */
  async insert(tenantId: number, sealedCode: Buffer): Promise<StoredCredential> {
    const rows: CredentialRow[] = await this.manager.query(
      `INSERT INTO tenant_credential (tenant_id, sealed_code) VALUES ($1, $2)
       RETURNING id, tenant_id, sealed_code, created_at, valid_until, revoked_at`,
      [tenantId, sealedCode],
    );
    return toCredential(rows[0] as CredentialRow);
  }

  /**
   * Ends the current code's life `overlapSeconds` from now (database time) and returns that
   * moment, or undefined when the tenant has no current code. Older overlapping codes keep their
   * own, earlier end.
   */
  async retireCurrent(tenantId: number, overlapSeconds: number): Promise<Date | undefined> {
    const [rows] = (await this.manager.query(
      `UPDATE tenant_credential
          SET valid_until = now() + make_interval(secs => $2::double precision)
        WHERE tenant_id = $1 AND valid_until IS NULL AND revoked_at IS NULL
        RETURNING valid_until`,
      [tenantId, overlapSeconds],
    )) as [Array<{ valid_until: Date }>, number];
    return rows[0]?.valid_until;
  }

  /** Revokes every code of the tenant that is still usable; returns how many. */
  async revokeAll(tenantId: number): Promise<number> {
    const [, count] = (await this.manager.query(
      `UPDATE tenant_credential c SET revoked_at = now() WHERE c.tenant_id = $1 AND ${USABLE}`,
      [tenantId],
    )) as [unknown, number];
    return count;
  }

  /** The tenant, if it is active (a tenant disabled since its code matched is refused). */
  async findActiveTenant(tenantId: number): Promise<Tenant | undefined> {
    const entity = await this.manager.findOneBy(TenantEntity, { id: tenantId, status: 'active' });
    return entity ? toTenant(entity) : undefined;
  }

  /**
   * DECISIONS §3.7: records that the tenant used this DisperseKey now. False when it already did
   * within the window: the insert meets the primary key (tenant_id, disperse_key), and the row
   * it meets is recent. A row older than the window (not yet pruned) is taken over instead.
   * Concurrent uses of one key meet at the same row lock: exactly one of them gets true.
   */
  async recordDisperseKey(tenantId: number, disperseKey: string, windowSeconds: number): Promise<boolean> {
    const rows: unknown[] = await this.manager.query(
      `INSERT INTO disperse_key_use AS used (tenant_id, disperse_key) VALUES ($1, $2)
       ON CONFLICT (tenant_id, disperse_key) DO UPDATE SET used_at = now()
         WHERE used.used_at <= now() - make_interval(secs => $3::double precision)
       RETURNING 1`,
      [tenantId, disperseKey, windowSeconds],
    );
    return rows.length === 1;
  }

  /** Forgets DisperseKeys used before the window; returns how many. Keeps the table bounded. */
  async pruneDisperseKeys(windowSeconds: number): Promise<number> {
    const [, count] = (await this.manager.query(
      `DELETE FROM disperse_key_use WHERE used_at <= now() - make_interval(secs => $1::double precision)`,
      [windowSeconds],
    )) as [unknown, number];
    return count;
  }
}

function toCredential(row: CredentialRow): StoredCredential {
  return {
    id: Number(row.id),
    tenantId: Number(row.tenant_id),
    sealedCode: row.sealed_code,
    createdAt: row.created_at,
    validUntil: row.valid_until,
    revokedAt: row.revoked_at,
  };
}
