import type { EntityManager } from 'typeorm';
import type { MeterState } from '../domain/model';
import type { MeterReport } from './device-messages';

/** A meter of the gateway's tenant, as the device API needs it. */
export interface LinkedMeter {
  /** meter.id */
  rowId: string;
  meterNo: string;
  meterId: string;
  /** The CIS's UserID of the meter's account (用户号). */
  userId: string;
  state: MeterState;
}

/** A report that was new (not a repeat of a stored one). */
export interface StoredReport {
  meterRowId: string;
  readAt: Date;
}

export interface StoredAlarm {
  meterRowId: string;
  alarmAt: Date;
  alarmType: string;
  message: string;
}

export interface AlarmToStore {
  meterRowId: string;
  alarmAt: Date;
  alarmType: string;
  message: string;
}

/**
 * What meters report, stored set-based: one statement for every report of an uplink, one for its
 * alarms, whatever their number (the values travel as one array parameter per column).
 */
export class ReportRepository {
  constructor(private readonly manager: EntityManager) {}

  /** The tenant's meters with these MeterNos (closed ones too: they still take close_account). */
  async findMeters(tenantId: number, meterNos: string[]): Promise<LinkedMeter[]> {
    return (await this.manager.query(
      `SELECT m.id AS "rowId", m.meter_no AS "meterNo", m.meter_id AS "meterId",
              c.user_id AS "userId", m.state AS "state"
         FROM meter AS m JOIN customer AS c ON c.id = m.customer_id
        WHERE m.tenant_id = $1 AND m.meter_no = ANY($2::text[])`,
      [tenantId, [...new Set(meterNos)]],
    )) as LinkedMeter[];
  }

  /** Every meter of the tenant, for a simulator or a gateway that must know its fleet. */
  async listMeters(tenantId: number): Promise<Array<LinkedMeter & { initialReading: string }>> {
    return (await this.manager.query(
      `SELECT m.id AS "rowId", m.meter_no AS "meterNo", m.meter_id AS "meterId",
              c.user_id AS "userId", m.state AS "state", m.initial_reading AS "initialReading"
         FROM meter AS m JOIN customer AS c ON c.id = m.customer_id
        WHERE m.tenant_id = $1
        ORDER BY m.id`,
      [tenantId],
    )) as Array<LinkedMeter & { initialReading: string }>;
  }

  /**
   * One statement: appends the reports to the time series, moves each meter's snapshot to its
   * newest report, takes a meter from state 0 (opened) to 1 (in use) at its first report
   * (DECISIONS §5.1), and lets a report set the meter's valve state when it is newer than the last
   * valve change, except while a valve command is in flight ('10'), which only its
   * acknowledgement ends. A report already stored (same meter and time: a gateway's retry)
   * changes nothing. Returns the reports that were new.
   */
  async store(tenantId: number, gatewayId: number, meterRowIds: string[], reports: MeterReport[]): Promise<StoredReport[]> {
    if (reports.length === 0) return [];
    const column = <T>(pick: (report: MeterReport) => T) => reports.map(pick);
    const rows = (await this.manager.query(
      `WITH input AS (
         SELECT * FROM unnest($2::bigint[], $3::timestamptz[], $4::numeric[], $5::text[],
                              $6::numeric[], $7::numeric[], $8::numeric[], $9::numeric[],
                              $10::numeric[], $11::numeric[], $12::numeric[], $13::smallint[])
           AS r (meter_id, read_at, reading, valve_state, temperature, pressure, remain_money,
                 total_buy_money, total_used_gas, total_used_money, price, battery_percent)
       ), stored AS (
         INSERT INTO meter_reading (meter_id, read_at, tenant_id, reading, valve_state, temperature,
                                    pressure, remain_money, total_buy_money, total_used_gas,
                                    total_used_money, price, battery_percent, gateway_id)
         SELECT meter_id, read_at, $1, reading, valve_state, temperature, pressure, remain_money,
                total_buy_money, total_used_gas, total_used_money, price, battery_percent, $14
           FROM input
         ON CONFLICT (meter_id, read_at) DO NOTHING
         RETURNING meter_id, read_at
       ), latest AS (
         SELECT DISTINCT ON (input.meter_id) input.*
           FROM input JOIN stored USING (meter_id, read_at)
          ORDER BY input.meter_id, input.read_at DESC
       ), snapshot AS (
         INSERT INTO meter_snapshot (meter_id, tenant_id, read_at, reading, valve_state, temperature,
                                     pressure, remain_money, total_buy_money, total_used_gas,
                                     total_used_money, price, battery_percent)
         SELECT meter_id, $1, read_at, reading, valve_state, temperature, pressure, remain_money,
                total_buy_money, total_used_gas, total_used_money, price, battery_percent
           FROM latest
         ON CONFLICT (meter_id) DO UPDATE
           SET read_at = EXCLUDED.read_at, reading = EXCLUDED.reading,
               valve_state = EXCLUDED.valve_state, temperature = EXCLUDED.temperature,
               pressure = EXCLUDED.pressure, remain_money = EXCLUDED.remain_money,
               total_buy_money = EXCLUDED.total_buy_money, total_used_gas = EXCLUDED.total_used_gas,
               total_used_money = EXCLUDED.total_used_money, price = EXCLUDED.price,
               battery_percent = EXCLUDED.battery_percent
           WHERE meter_snapshot.read_at < EXCLUDED.read_at
         RETURNING meter_id
       ), meter_change AS (
         -- Touches (and locks) a meter row only when something changes: most reports change
         -- neither the state nor the valve.
         UPDATE meter AS m
            SET state = CASE WHEN m.state = 0 THEN 1 ELSE m.state END,
                valve_state = CASE WHEN m.valve_state <> '10'
                                    AND (m.valve_state_at IS NULL OR m.valve_state_at <= latest.read_at)
                                   THEN latest.valve_state ELSE m.valve_state END,
                valve_state_at = CASE WHEN m.valve_state <> '10'
                                       AND (m.valve_state_at IS NULL OR m.valve_state_at <= latest.read_at)
                                      THEN latest.read_at ELSE m.valve_state_at END,
                updated_at = now()
           FROM latest
          WHERE m.id = latest.meter_id
            AND (m.state = 0
                 OR (m.valve_state <> '10' AND m.valve_state <> latest.valve_state
                     AND (m.valve_state_at IS NULL OR m.valve_state_at <= latest.read_at)))
         RETURNING m.id
       )
       SELECT meter_id AS "meterRowId", read_at AS "readAt" FROM stored`,
      [
        tenantId,
        meterRowIds,
        column((r) => r.readAt),
        column((r) => r.reading),
        column((r) => r.valveState),
        column((r) => r.temperature),
        column((r) => r.pressure),
        column((r) => r.remainMoney),
        column((r) => r.totalBuyMoney),
        column((r) => r.totalUsedGas),
        column((r) => r.totalUsedMoney),
        column((r) => r.price),
        column((r) => r.batteryPercent),
        gatewayId,
      ],
    )) as StoredReport[];
    return rows;
  }

  /** Stores alarms; one already stored (same meter, time and type) is not stored again. */
  async storeAlarms(tenantId: number, gatewayId: number, alarms: AlarmToStore[]): Promise<StoredAlarm[]> {
    if (alarms.length === 0) return [];
    return (await this.manager.query(
      `INSERT INTO meter_alarm (meter_id, tenant_id, alarm_at, alarm_type, message, gateway_id)
       SELECT a.meter_id, $1, a.alarm_at, a.alarm_type, a.message, $6
         FROM unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::text[])
           AS a (meter_id, alarm_at, alarm_type, message)
       ON CONFLICT (meter_id, alarm_at, alarm_type) DO NOTHING
       RETURNING meter_id AS "meterRowId", alarm_at AS "alarmAt", alarm_type AS "alarmType", message`,
      [
        tenantId,
        alarms.map((alarm) => alarm.meterRowId),
        alarms.map((alarm) => alarm.alarmAt),
        alarms.map((alarm) => alarm.alarmType),
        alarms.map((alarm) => alarm.message),
        gatewayId,
      ],
    )) as StoredAlarm[];
  }
}
