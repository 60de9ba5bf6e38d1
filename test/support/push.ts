import { CisReceiver, type CisReceiverOptions } from '../../src/cis-receiver/cis-receiver';
import type { Tenant } from '../../src/domain/model';
import { PushAdmin, type PushSettingsChange } from '../../src/push/push-admin';
import type { TestPlatform } from './test-platform';

/**
 * Helpers for the CIS push tests: the reference receiver on a free port, push settings through
 * the operator's service, and the outbox as the database holds it.
 */
export async function startReceiver(options: CisReceiverOptions = {}): Promise<CisReceiver> {
  const receiver = new CisReceiver(options);
  await receiver.listen(0, '127.0.0.1');
  return receiver;
}

/** Settings that make retries fast enough for a test; the real defaults are seconds to minutes. */
export const FAST_RETRIES: PushSettingsChange = {
  timeoutMs: 1_000,
  backoffBaseMs: 50,
  backoffMaxMs: 400,
};

/** The platform environment for push tests: idle lanes look for work every 20 ms. */
export const FAST_POLLING = { PUSH_POLL_INTERVAL_MS: '20' };

export function pushTo(
  platform: TestPlatform,
  tenant: Tenant,
  receiver: CisReceiver,
  change: PushSettingsChange = {},
): Promise<unknown> {
  const soap = change.format === 'soap';
  return new PushAdmin(platform.database.dataSource).configure(tenant.code, {
    readingUrl: soap ? receiver.soapUrl : receiver.restReadingUrl,
    alarmUrl: soap ? receiver.soapUrl : receiver.restAlarmUrl,
    ...FAST_RETRIES,
    ...change,
  });
}

export interface OutboxRow {
  id: string;
  tenant_id: number;
  kind: string;
  request_serial_no: string;
  state: string;
  attempts: number;
  last_code: number | null;
  last_error: string | null;
}

export function outboxRows(platform: { database: TestPlatform['database'] }, tenantId?: number): Promise<OutboxRow[]> {
  return platform.database.dataSource.query(
    `SELECT id, tenant_id, kind, request_serial_no, state, attempts, last_code, last_error
       FROM push_outbox WHERE $1::integer IS NULL OR tenant_id = $1 ORDER BY id`,
    [tenantId ?? null],
  );
}

/** Polls until `check` holds; fails with `what` and the last value seen after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T> | T,
  check: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!check(value)) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(value).slice(0, 500)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await probe();
  }
  return value;
}

/** Counts of outbox rows by state. */
export async function outboxStates(platform: TestPlatform, tenantId?: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = { pending: 0, delivered: 0, dead: 0 };
  for (const row of await outboxRows(platform, tenantId)) counts[row.state] = (counts[row.state] ?? 0) + 1;
  return counts;
}
