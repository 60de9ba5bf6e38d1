import type { EntityManager } from 'typeorm';

export type PushFormat = 'rest' | 'soap';

/** Where and how one tenant wants its pushes (table push_settings, migration 1764000006000). */
export interface PushSettings {
  tenantId: number;
  /** NULL: readings are not pushed (and not queued). */
  readingUrl: string | null;
  /** NULL: alarms are not pushed (and not queued). */
  alarmUrl: string | null;
  format: PushFormat;
  /** How long one attempt may wait for the CIS's answer. */
  timeoutMs: number;
  /** Attempts of this tenant in flight at once, per platform process. */
  concurrency: number;
  /** A push still undelivered this long after it was queued (or resent) becomes a dead letter. */
  maxAgeSeconds: number;
  /** Retry delays grow from this, doubling per failed attempt, with jitter ... */
  backoffBaseMs: number;
  /** ... up to this. */
  backoffMaxMs: number;
}

/** A tenant's settings with what the worker needs to know of the tenant itself. */
export interface PushTarget extends PushSettings {
  tenantCode: string;
  tenantName: string;
  plaintext: boolean;
}

/** The defaults of the migration, for settings that were never given. */
export const DEFAULT_PUSH_SETTINGS: Omit<PushSettings, 'tenantId'> = {
  readingUrl: null,
  alarmUrl: null,
  format: 'rest',
  timeoutMs: 10_000,
  concurrency: 8,
  maxAgeSeconds: 7 * 24 * 3600,
  backoffBaseMs: 1_000,
  backoffMaxMs: 300_000,
};

interface SettingsRow {
  tenant_id: number;
  reading_url: string | null;
  alarm_url: string | null;
  format: PushFormat;
  timeout_ms: number;
  concurrency: number;
  max_age_seconds: number;
  backoff_base_ms: number;
  backoff_max_ms: number;
}

interface TargetRow extends SettingsRow {
  code: string;
  name: string;
  plaintext: boolean;
}

const COLUMNS =
  's.tenant_id, s.reading_url, s.alarm_url, s.format, s.timeout_ms, s.concurrency, ' +
  's.max_age_seconds, s.backoff_base_ms, s.backoff_max_ms';

export class PushSettingsRepository {
  constructor(private readonly manager: EntityManager) {}

  async find(tenantId: number): Promise<PushSettings | undefined> {
    const rows: SettingsRow[] = await this.manager.query(
      `SELECT ${COLUMNS} FROM push_settings s WHERE s.tenant_id = $1`,
      [tenantId],
    );
    return rows[0] ? toSettings(rows[0]) : undefined;
  }

  /** Writes the whole row (the caller merged its changes into the current settings). */
  async save(settings: PushSettings): Promise<void> {
    await this.manager.query(
      `INSERT INTO push_settings AS s (tenant_id, reading_url, alarm_url, format, timeout_ms,
                                      concurrency, max_age_seconds, backoff_base_ms, backoff_max_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (tenant_id) DO UPDATE SET
         reading_url = EXCLUDED.reading_url, alarm_url = EXCLUDED.alarm_url,
         format = EXCLUDED.format, timeout_ms = EXCLUDED.timeout_ms,
         concurrency = EXCLUDED.concurrency, max_age_seconds = EXCLUDED.max_age_seconds,
         backoff_base_ms = EXCLUDED.backoff_base_ms, backoff_max_ms = EXCLUDED.backoff_max_ms,
         updated_at = now()`,
      [
        settings.tenantId,
        settings.readingUrl,
        settings.alarmUrl,
        settings.format,
        settings.timeoutMs,
        settings.concurrency,
        settings.maxAgeSeconds,
        settings.backoffBaseMs,
        settings.backoffMaxMs,
      ],
    );
  }

  /** Every active tenant with at least one push URL: the worker's lanes. */
  async listTargets(): Promise<PushTarget[]> {
    const rows: TargetRow[] = await this.manager.query(
      `SELECT ${COLUMNS}, t.code, t.name, t.plaintext
         FROM push_settings s JOIN tenant t ON t.id = s.tenant_id
        WHERE t.status = 'active' AND (s.reading_url IS NOT NULL OR s.alarm_url IS NOT NULL)
        ORDER BY s.tenant_id`,
    );
    return rows.map((row) => ({
      ...toSettings(row),
      tenantCode: row.code,
      tenantName: row.name,
      plaintext: row.plaintext,
    }));
  }
}

function toSettings(row: SettingsRow): PushSettings {
  return {
    tenantId: Number(row.tenant_id),
    readingUrl: row.reading_url,
    alarmUrl: row.alarm_url,
    format: row.format,
    timeoutMs: Number(row.timeout_ms),
    concurrency: Number(row.concurrency),
    maxAgeSeconds: Number(row.max_age_seconds),
    backoffBaseMs: Number(row.backoff_base_ms),
    backoffMaxMs: Number(row.backoff_max_ms),
  };
}
