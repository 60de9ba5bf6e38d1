import { CisReceiver, type CisReceiverOptions } from '../../src/cis-receiver/cis-receiver';
import type { Tenant } from '../../src/domain/model';
import { PushAdmin, type PushSettingsChange } from '../../src/push/push-admin';
import { startTestPlatform, type TestPlatform } from './test-platform';

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
    `SELECT id, tenant_id, kind, request_serial_no, state, attempts, last_code, last_error, next_attempt_at
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

/** A query against the platform's database, in this process or through a connection of its own. */
export type Query = (sql: string, parameters?: unknown[]) => Promise<any[]>;

export function queryOf(platform: TestPlatform): Query {
  return (sql, parameters = []) => platform.database.dataSource.query(sql, parameters);
}

/**
 * Records every write that leaves a push delivered, so that a test can see each push marked
 * delivered exactly once (test databases only; the platform has no such table).
 */
export async function recordDeliveries(query: Query): Promise<void> {
  await query(`CREATE TABLE push_delivery_log (push_id bigint NOT NULL)`);
  await query(`
    CREATE FUNCTION log_push_delivery() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO push_delivery_log (push_id) VALUES (NEW.id);
      RETURN NEW;
    END $$`);
  await query(`
    CREATE TRIGGER push_delivery_logged AFTER UPDATE ON push_outbox
      FOR EACH ROW WHEN (NEW.state = 'delivered') EXECUTE FUNCTION log_push_delivery()`);
}

export interface PushTally {
  readings: number;
  alarms: number;
  repeatsOnTheWire: number;
}

/**
 * The "done when", checked for one tenant: every stored reading and alarm has exactly one
 * push, every push is delivered and was marked so exactly once, and the receiver holds each of
 * them under its requestSerialNo with the same meter and time. Repeats on the wire are allowed.
 */
export async function expectEveryReportPushedOnce(
  query: Query,
  tenant: { id: number; name: string },
  receiver: CisReceiver,
): Promise<PushTally> {
  const [missing] = await query(
    `SELECT
       (SELECT count(*)::int FROM meter_reading stored WHERE stored.tenant_id = $1 AND (
          SELECT count(*) FROM push_outbox push WHERE push.kind = 'reading'
             AND push.meter_id = stored.meter_id AND push.occurred_at = stored.read_at) <> 1) AS readings,
       (SELECT count(*)::int FROM meter_alarm stored WHERE stored.tenant_id = $1 AND (
          SELECT count(*) FROM push_outbox push WHERE push.kind = 'alarm'
             AND push.meter_id = stored.meter_id AND push.occurred_at = stored.alarm_at
             AND push.fields ->> 'AlarmType' = stored.alarm_type) <> 1) AS alarms`,
    [tenant.id],
  );
  expect(missing).toEqual({ readings: 0, alarms: 0 });

  const [stored] = await query(
    `SELECT (SELECT count(*)::int FROM meter_reading WHERE tenant_id = $1) AS readings,
            (SELECT count(*)::int FROM meter_alarm WHERE tenant_id = $1) AS alarms`,
    [tenant.id],
  );
  const delivered = await expectPushesDeliveredOnce(query, tenant, receiver);
  expect(delivered.pushes).toBe(stored.readings + stored.alarms);

  return { readings: stored.readings, alarms: stored.alarms, repeatsOnTheWire: delivered.repeatsOnTheWire };
}

/**
 * Every push of the tenant is delivered, was marked so exactly once, and is at the receiver under
 * its requestSerialNo with the same meter and time; nothing else of the tenant is there.
 */
export async function expectPushesDeliveredOnce(
  query: Query,
  tenant: { id: number; name: string },
  receiver: CisReceiver,
): Promise<{ pushes: number; repeatsOnTheWire: number }> {
  const pushes: Array<{ id: string; kind: string; request_serial_no: string; state: string; fields: Record<string, string> }> =
    await query(`SELECT id, kind, request_serial_no, state, fields FROM push_outbox WHERE tenant_id = $1 ORDER BY id`, [
      tenant.id,
    ]);
  expect(pushes.filter((push) => push.state !== 'delivered')).toEqual([]);

  const marks: Array<{ push_id: string; n: number }> = await query(
    `SELECT push_id, count(*)::int AS n FROM push_delivery_log
      WHERE push_id IN (SELECT id FROM push_outbox WHERE tenant_id = $1) GROUP BY push_id`,
    [tenant.id],
  );
  expect(marks.length).toBe(pushes.length);
  expect(marks.filter((mark) => mark.n !== 1)).toEqual([]);

  const atReceiver = [...receiver.received.values()].filter((push) => push.dataFrom === tenant.name);
  expect(atReceiver.length).toBe(pushes.length);
  for (const push of pushes) {
    const received = receiver.received.get(push.request_serial_no);
    const when = push.kind === 'reading' ? 'CreateDate' : 'AlarmTime';
    expect({ serial: push.request_serial_no, meterNo: received?.payload.meterNo, when: received?.payload[when] }).toEqual({
      serial: push.request_serial_no,
      meterNo: push.fields.meterNo,
      when: push.fields[when],
    });
  }

  const repeatsOnTheWire = atReceiver.reduce((sum, push) => sum + push.count - 1, 0);
  return { pushes: pushes.length, repeatsOnTheWire };
}

/** The platform of a push test file: idle lanes polling every 20 ms, every delivery recorded. */
export async function startPushPlatform(): Promise<TestPlatform> {
  const platform = await startTestPlatform({ environment: FAST_POLLING });
  await recordDeliveries(queryOf(platform));
  return platform;
}
