import type { DataSource } from 'typeorm';
import { PushOutboxRepository, type PushCounts, type PushRow } from '../persistence/repositories/push-outbox-repository';
import {
  DEFAULT_PUSH_SETTINGS,
  PushSettingsRepository,
  type PushFormat,
  type PushSettings,
} from '../persistence/repositories/push-settings-repository';
import { TenantRepository } from '../persistence/repositories/tenant-repository';

/** What `cnmcsp push set` may change; undefined leaves a setting as it is, null clears a URL. */
export interface PushSettingsChange {
  readingUrl?: string | null;
  alarmUrl?: string | null;
  format?: PushFormat;
  timeoutMs?: number;
  concurrency?: number;
  maxAgeSeconds?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

export interface PushOverview {
  tenantCode: string;
  tenantName: string;
  plaintext: boolean;
  settings: PushSettings;
  counts: PushCounts;
  recentFailures: PushRow[];
}

/**
 * The operator's side of the CIS push (issue 6): settings per tenant, dead letters, resending.
 * Errors are plain Errors with a message that says what to fix; the CLI prints them.
 */
export class PushAdmin {
  constructor(private readonly dataSource: DataSource) {}

  async configure(tenantCode: string, change: PushSettingsChange): Promise<PushSettings> {
    const tenant = await this.tenant(tenantCode);
    const repository = new PushSettingsRepository(this.dataSource.manager);
    const current = (await repository.find(tenant.id)) ?? { tenantId: tenant.id, ...DEFAULT_PUSH_SETTINGS };

    const merged: PushSettings = { ...current };
    for (const [key, value] of Object.entries(change)) {
      if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value;
    }
    assertValidSettings(merged);

    await repository.save(merged);
    return merged;
  }

  async overview(tenantCode: string): Promise<PushOverview> {
    const tenant = await this.tenant(tenantCode);
    const settings = await new PushSettingsRepository(this.dataSource.manager).find(tenant.id);
    const outbox = new PushOutboxRepository(this.dataSource.manager);

    return {
      tenantCode: tenant.code,
      tenantName: tenant.name,
      plaintext: tenant.plaintext,
      settings: settings ?? { tenantId: tenant.id, ...DEFAULT_PUSH_SETTINGS },
      counts: await outbox.counts(tenant.id),
      recentFailures: await outbox.recentFailures(tenant.id, 5),
    };
  }

  async deadLetters(tenantCode: string | undefined, limit: number): Promise<PushRow[]> {
    const tenantId = tenantCode === undefined ? undefined : (await this.tenant(tenantCode)).id;
    return new PushOutboxRepository(this.dataSource.manager).listDead(tenantId, limit);
  }

  /**
   * Resends one dead letter, named by its id or its requestSerialNo. Refused, with the reason,
   * when it is not a dead letter (pending pushes are already being retried).
   */
  async resendOne(idOrSerial: string): Promise<PushRow> {
    const outbox = new PushOutboxRepository(this.dataSource.manager);
    const row = await this.findPush(outbox, idOrSerial);
    if (row.state !== 'dead') {
      throw new Error(`push ${row.id} (${row.requestSerialNo}) is ${row.state}, not a dead letter`);
    }

    await outbox.resendDead({ ids: [row.id] });
    return row;
  }

  /** Resends every dead letter, of one tenant or of all; returns how many. */
  async resendAllDead(tenantCode: string | undefined): Promise<number> {
    const tenantId = tenantCode === undefined ? undefined : (await this.tenant(tenantCode)).id;
    return (await new PushOutboxRepository(this.dataSource.manager).resendDead({ tenantId })).length;
  }

  private async findPush(outbox: PushOutboxRepository, idOrSerial: string): Promise<PushRow> {
    const bySerial = await outbox.findBySerial(idOrSerial);
    if (bySerial) return bySerial;

    if (/^\d{1,18}$/.test(idOrSerial)) {
      const byId = await outbox.findById(idOrSerial);
      if (byId) return byId;
    }
    throw new Error(`no push with id or requestSerialNo ${idOrSerial}`);
  }

  private async tenant(code: string) {
    const tenant = await new TenantRepository(this.dataSource.manager).findByCode(code);
    if (!tenant) throw new Error(`no tenant with code ${code}`);
    return tenant;
  }
}

function assertValidSettings(settings: PushSettings): void {
  for (const [name, url] of [
    ['--reading-url', settings.readingUrl],
    ['--alarm-url', settings.alarmUrl],
  ] as const) {
    if (url !== null && !isHttpUrl(url)) throw new Error(`${name} must be an http:// or https:// URL, not ${url}`);
    if (url !== null && url.length > 500) throw new Error(`${name} is longer than 500 characters`);
  }
  if (settings.format !== 'rest' && settings.format !== 'soap') {
    throw new Error(`--format must be rest or soap, not ${String(settings.format)}`);
  }
  assertRange('--timeout', settings.timeoutMs, 100, 600_000, 'ms');
  assertRange('--concurrency', settings.concurrency, 1, 256, '');
  assertRange('--max-age', settings.maxAgeSeconds, 1, 10 * 365 * 86_400, 's');
  assertRange('--backoff-base', settings.backoffBaseMs, 1, 86_400_000, 'ms');
  assertRange('--backoff-max', settings.backoffMaxMs, settings.backoffBaseMs, 86_400_000, 'ms');
}

function assertRange(name: string, value: number, min: number, max: number, unit: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min}${unit} to ${max}${unit}, not ${value}${unit}`);
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
