import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Tenant } from '../domain/model';

/**
 * Gateways (网关: NB-IoT platforms, GPRS DTU servers, protocol adapters) speak for the meters of
 * one tenant. Each authenticates with a bearer token that the platform shows once, when it is
 * made, and keeps only as its SHA-256: the token is 256 random bits, so a plain hash is enough
 * (no password stretching is needed for a secret nobody chose), and a stolen table gives no token.
 */
export interface Gateway {
  id: number;
  name: string;
  tenant: Tenant;
}

export interface GatewayListing {
  id: number;
  tenant: string;
  name: string;
  createdAt: Date;
  lastSeenAt: Date | null;
  revokedAt: Date | null;
}

const TOKEN_PREFIX = 'cgw_';

export function newGatewayToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashGatewayToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export class GatewayRepository {
  constructor(private readonly manager: EntityManager) {}

  /** The active gateway with this token, of an active tenant. */
  async findByToken(token: string): Promise<(Gateway & { lastSeenAt: Date | null }) | undefined> {
    const rows = (await this.manager.query(
      `SELECT g.id, g.name, g.last_seen_at AS "lastSeenAt",
              t.id AS "tenantId", t.code, t.name AS "tenantName", t.billing_mode AS "billingMode",
              t.plaintext, t.time_zone AS "timeZone"
         FROM gateway AS g JOIN tenant AS t ON t.id = g.tenant_id
        WHERE g.token_hash = $1 AND g.revoked_at IS NULL AND t.status = 'active'`,
      [hashGatewayToken(token)],
    )) as Array<Record<string, unknown>>;
    const row = rows[0];
    if (!row) return undefined;
    return {
      id: row.id as number,
      name: row.name as string,
      lastSeenAt: row.lastSeenAt as Date | null,
      tenant: {
        id: row.tenantId as number,
        code: row.code as string,
        name: row.tenantName as string,
        billingMode: row.billingMode as Tenant['billingMode'],
        plaintext: row.plaintext as boolean,
        timeZone: row.timeZone as string,
      },
    };
  }

  /** Adds a gateway and returns its token, the only time the token exists outside the caller. */
  async add(tenantId: number, name: string): Promise<{ id: number; token: string }> {
    const token = newGatewayToken();
    const rows = (await this.manager.query(
      `INSERT INTO gateway (tenant_id, name, token_hash) VALUES ($1, $2, $3) RETURNING id`,
      [tenantId, name, hashGatewayToken(token)],
    )) as Array<{ id: number }>;
    return { id: rows[0]!.id, token };
  }

  /** A new token for the named gateway, made if missing (the demo simulator at each start). */
  async rotate(tenantId: number, name: string): Promise<{ id: number; token: string }> {
    const token = newGatewayToken();
    const rows = (await this.manager.query(
      `INSERT INTO gateway (tenant_id, name, token_hash) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id, name) DO UPDATE SET token_hash = EXCLUDED.token_hash, revoked_at = NULL
       RETURNING id`,
      [tenantId, name, hashGatewayToken(token)],
    )) as Array<{ id: number }>;
    return { id: rows[0]!.id, token };
  }

  /** Seen at most once a minute per gateway: a busy gateway does not write on every call. */
  async markSeen(gatewayId: number): Promise<void> {
    await this.manager.query(
      `UPDATE gateway SET last_seen_at = now()
        WHERE id = $1 AND (last_seen_at IS NULL OR last_seen_at < now() - interval '1 minute')`,
      [gatewayId],
    );
  }

  async revoke(gatewayId: number): Promise<boolean> {
    const [, affected] = (await this.manager.query(
      `UPDATE gateway SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`,
      [gatewayId],
    )) as [unknown, number];
    return affected === 1;
  }

  async list(tenantId?: number): Promise<GatewayListing[]> {
    return (await this.manager.query(
      `SELECT g.id, t.code AS tenant, g.name, g.created_at AS "createdAt",
              g.last_seen_at AS "lastSeenAt", g.revoked_at AS "revokedAt"
         FROM gateway AS g JOIN tenant AS t ON t.id = g.tenant_id
        WHERE $1::integer IS NULL OR g.tenant_id = $1
        ORDER BY g.id`,
      [tenantId ?? null],
    )) as GatewayListing[];
  }
}
