/**
 * The push outbox (spec §6, DECISIONS §5.7): the one way into the CIS push.
 *
 * Call `enqueueReadingPushes` / `enqueueAlarmPushes` INSIDE the transaction that stores the
 * reports, with that transaction's EntityManager. The push rows then commit or roll back with the
 * reports: a stored report always gets its push, a rolled-back one never does. The delivery worker
 * (push/delivery-worker.ts) sends them later, retrying until the CIS answers ReturnCode 0.
 *
 * - Only tenants that configured a URL for that kind (`cnmcsp push set`) get rows; for the others
 *   the call writes nothing and costs one statement.
 * - Set-based: one INSERT … SELECT per chunk of CHUNK_SIZE reports, whatever the count. The
 *   reports travel as a single jsonb parameter, so PostgreSQL's 65535 bind-parameter limit never
 *   applies.
 * - Every field of the message is frozen when the row is written: DataFrom (the tenant's name) and
 *   CreateDate / AlarmTime (in the tenant's zone) are taken from the tenant row at that moment,
 *   numbers are fixed to 4 decimals (DECISIONS §4). `requestSerialNo` is issued by the database
 *   from a sequence and never reused (see the migration 1764000006000).
 * - Rows are inserted in the order given, so one meter's reports are pushed oldest first as long as
 *   they are delivered at the first attempt (retries may reorder; the CIS orders by CreateDate).
 *
 * Throws (and so rolls the caller's transaction back) on a value that is not numeric text or a
 * date that is invalid: those are programming errors, not CIS input.
 */
import type { EntityManager } from 'typeorm';
import { formatFourDecimals } from '../domain/decimal';
import type { PushKind } from '../persistence/repositories/push-outbox-repository';

export type { PushKind };

/** One stored meter report to push as spec §6.1 实时数据上传. */
export interface ReadingForPush {
  tenantId: number;
  /** meter.id (bigint as text), not the CIS's MeterID. */
  meterRowId: string;
  /** 用户号: the CIS's UserID of the meter's account. */
  userNo: string;
  /** 表号: MeterNo. */
  meterNo: string;
  readAt: Date;
  /** Numeric text, e.g. "158.22" or "158.2200". */
  reading: string;
  /** spec §8: 01 open, 00 closed, 10 moving, 11 fault. */
  valveState: string;
  temperature: string | null;
  pressure: string | null;
  remainMoney: string | null;
  totalUsedGas: string | null;
  totalUsedMoney: string | null;
  totalBuyMoney?: string | null;
  price: string | null;
}

/** One stored meter alarm to push as spec §6.2 警报信息上传. */
export interface AlarmForPush {
  tenantId: number;
  meterRowId: string;
  userNo: string;
  meterNo: string;
  alarmAt: Date;
  /** 警报类型, the CIS defines the values. */
  alarmType: string;
  /** 警报详情. */
  alarmMessage: string;
}

/** `cmdCode` of each kind of message (spec §6 leaves the values open). */
export const COMMAND_CODES: Record<PushKind, string> = {
  reading: 'RealTimeData',
  alarm: 'AlarmData',
};

/** Reports per INSERT statement: bounds the size of one parameter and of one statement's work. */
export const CHUNK_SIZE = 5000;

/** A report reduced to what the INSERT needs; `fields` are the frozen message fields. */
interface OutboxInput {
  position: number;
  tenant_id: number;
  meter_row_id: string;
  occurred_at: string;
  fields: Record<string, string | null>;
}

export async function enqueueReadingPushes(
  manager: EntityManager,
  readings: ReadingForPush[],
): Promise<void> {
  const inputs = readings.map(
    (reading, position): OutboxInput => ({
      position,
      tenant_id: reading.tenantId,
      meter_row_id: reading.meterRowId,
      occurred_at: isoInstant(reading.readAt),
      fields: {
        cmdCode: COMMAND_CODES.reading,
        userNo: reading.userNo,
        meterNo: reading.meterNo,
        Reading: fourDecimals(reading.reading),
        ValveState: reading.valveState,
        Temperature: fourDecimalsOrNull(reading.temperature),
        Pressure: fourDecimalsOrNull(reading.pressure),
        // The reserved (预留) fields of spec §6.1 carry the balance figures.
        RemainMoney: fourDecimalsOrNull(reading.remainMoney),
        TotalBuyMoney: fourDecimalsOrNull(reading.totalBuyMoney ?? null),
        TotalUsedGas: fourDecimalsOrNull(reading.totalUsedGas),
        TotalUsedMoney: fourDecimalsOrNull(reading.totalUsedMoney),
        Price: fourDecimalsOrNull(reading.price),
      },
    }),
  );

  await insertInChunks(manager, 'reading', 'reading_url', 'CreateDate', inputs);
}

export async function enqueueAlarmPushes(manager: EntityManager, alarms: AlarmForPush[]): Promise<void> {
  const inputs = alarms.map(
    (alarm, position): OutboxInput => ({
      position,
      tenant_id: alarm.tenantId,
      meter_row_id: alarm.meterRowId,
      occurred_at: isoInstant(alarm.alarmAt),
      fields: {
        cmdCode: COMMAND_CODES.alarm,
        userNo: alarm.userNo,
        meterNo: alarm.meterNo,
        AlarmType: alarm.alarmType,
        AlarmMessage: alarm.alarmMessage,
      },
    }),
  );

  await insertInChunks(manager, 'alarm', 'alarm_url', 'AlarmTime', inputs);
}

async function insertInChunks(
  manager: EntityManager,
  kind: PushKind,
  urlColumn: 'reading_url' | 'alarm_url',
  dateField: 'CreateDate' | 'AlarmTime',
  inputs: OutboxInput[],
): Promise<void> {
  for (let start = 0; start < inputs.length; start += CHUNK_SIZE) {
    const chunk = inputs.slice(start, start + CHUNK_SIZE);
    await manager.query(
      `INSERT INTO push_outbox (tenant_id, kind, meter_id, occurred_at, fields)
       SELECT report.tenant_id, $2, report.meter_row_id, report.occurred_at,
              report.fields || jsonb_build_object(
                'DataFrom', tenant.name,
                $3::text, to_char(report.occurred_at AT TIME ZONE tenant.time_zone,
                                  'YYYY-MM-DD HH24:MI:SS'))
         FROM jsonb_to_recordset($1::jsonb)
              AS report (position integer, tenant_id integer, meter_row_id bigint,
                         occurred_at timestamptz, fields jsonb)
         JOIN push_settings settings
           ON settings.tenant_id = report.tenant_id AND settings.${urlColumn} IS NOT NULL
         JOIN tenant ON tenant.id = report.tenant_id
        ORDER BY report.position`,
      [JSON.stringify(chunk), kind, dateField],
    );
  }
}

function isoInstant(value: Date): string {
  if (Number.isNaN(value.getTime())) throw new Error('a report to push has an invalid date');
  return value.toISOString();
}

function fourDecimals(value: string): string {
  return formatFourDecimals(value);
}

function fourDecimalsOrNull(value: string | null): string | null {
  return value === null ? null : fourDecimals(value);
}
