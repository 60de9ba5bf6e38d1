import type { EntityManager } from 'typeorm';
import type { MeterState } from '../../domain/model';
import { MeterEntity } from '../entities';
import { PURCHASE_KINDS } from './ledger-repository';

/** UserID/MeterID pairs as a batch names them, in request order (spec §5.3.7, §5.3.11). */
export interface MeterPairs {
  userIds: string[];
  meterIds: string[];
}

/** The first pair of a batch that cannot take the operation, and why (see lockAndFindFirstUnfitPair). */
export interface UnfitPair {
  /** 1-based position in the request's `Meters`. */
  position: number;
  userId: string;
  meterId: string;
  /** False: no such meter in the tenant, or it is another user's. */
  matched: boolean;
  state: MeterState | null;
  remoteControllable: boolean | null;
}

/** Everything ReadCurrentData answers about one requested pair (numeric columns as text). */
export interface CurrentDataRow {
  userId: string;
  meterId: string;
  /** Null: no such meter in the tenant. */
  meterKey: string | null;
  ownerUserId: string | null;
  state: MeterState | null;
  valveState: string | null;
  initialReading: string | null;
  endReading: string | null;
  /** Times are local text, `yyyy-MM-dd HH:mm:ss` in the tenant's zone (see findCurrentData). */
  openedAt: string | null;
  closedAt: string | null;
  /** Null: the meter has never reported; then every `reported*` field is null too. */
  reportedAt: string | null;
  reportedReading: string | null;
  temperature: string | null;
  pressure: string | null;
  reportedRemainMoney: string | null;
  totalUsedGas: string | null;
  totalUsedMoney: string | null;
  reportedPrice: string | null;
  schemePrice1: string | null;
  /** Ledger figures; see findCurrentData for their exact definition. */
  totalBuyMoney: string;
  ledgerBalance: string;
}

export class MeterRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * The meter with this MeterID, its row locked until the transaction ends, so that operations on
   * one meter happen one after another.
   */
  findForUpdate(tenantId: number, meterId: string): Promise<MeterEntity | null> {
    return this.manager
      .createQueryBuilder(MeterEntity, 'meter')
      .where('meter.tenant_id = :tenantId AND meter.meter_id = :meterId', { tenantId, meterId })
      .setLock('pessimistic_write')
      .getOne();
  }

  async existsByMeterIdOrNo(tenantId: number, meterId: string, meterNo: string): Promise<boolean> {
    const count = await this.manager
      .createQueryBuilder(MeterEntity, 'meter')
      .where('meter.tenant_id = :tenantId', { tenantId })
      .andWhere('(meter.meter_id = :meterId OR meter.meter_no = :meterNo)', { meterId, meterNo })
      .getCount();
    return count > 0;
  }

  async customerHasOpenMeter(customerId: string): Promise<boolean> {
    const count = await this.manager
      .createQueryBuilder(MeterEntity, 'meter')
      .where('meter.customer_id = :customerId AND meter.state <> -2', { customerId })
      .getCount();
    return count > 0;
  }

  async insert(values: Partial<MeterEntity>): Promise<MeterEntity> {
    return this.manager.save(this.manager.create(MeterEntity, values));
  }

  /** ChangePrice: the meter's price from now on and when the CIS changed it. */
  async setPrice(meter: MeterEntity, priceSchemeId: string, changedAt: Date): Promise<void> {
    await this.manager.query(
      `UPDATE meter SET price_scheme_id = $2, price_changed_at = $3, updated_at = now() WHERE id = $1`,
      [meter.id, priceSchemeId, changedAt],
    );
    meter.priceSchemeId = priceSchemeId;
  }

  /**
   * Locks the tenant's meters named by the pairs, then finds the first pair, in request order,
   * that cannot take a batch operation: its MeterID is not a meter of the tenant or not the
   * UserID's, its meter is in a state outside `allowedStates`, or (with `remoteOnly`) its model
   * cannot be reached remotely. Undefined when every pair is fit (DECISIONS §5.5: all or nothing).
   *
   * One statement whatever the number of pairs. The meters are locked in id order, so two batches
   * over overlapping meters wait for each other instead of deadlocking, and a single-meter
   * operation (which locks one row) cannot deadlock with either. The locks hold until the
   * transaction ends, so what was checked stays true for the writes that follow.
   *
   * Both steps are MATERIALIZED on purpose. Written as one join under `ORDER BY position LIMIT 1`,
   * the planner (knowing unnest's ordinality is already sorted) picks a nested loop that stops
   * at the first unfit pair: quick when one comes early, 100,000 × 100,000 comparisons when every
   * pair is fit. Materialized, the join runs once as a hash or merge join over all pairs, every
   * named meter is locked before the answer, and only the (few) unfit rows are sorted.
   */
  async lockAndFindFirstUnfitPair(
    tenantId: number,
    pairs: MeterPairs,
    allowedStates: readonly MeterState[],
    remoteOnly: boolean,
  ): Promise<UnfitPair | undefined> {
    const rows = (await this.manager.query(
      `WITH locked AS MATERIALIZED (
         SELECT meter.id, meter.meter_id, meter.state, customer.user_id, model.remote_controllable
           FROM meter
           JOIN customer ON customer.id = meter.customer_id
           JOIN meter_model AS model ON model.code = meter.model_code
          WHERE meter.tenant_id = $1 AND meter.meter_id = ANY($3::text[])
          ORDER BY meter.id
            FOR UPDATE OF meter
       ), unfit AS MATERIALIZED (
         SELECT requested.position::int AS "position",
                requested.user_id AS "userId",
                requested.meter_id AS "meterId",
                (locked.id IS NOT NULL AND locked.user_id = requested.user_id) AS "matched",
                locked.state AS "state",
                locked.remote_controllable AS "remoteControllable"
           FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS requested (user_id, meter_id, position)
           LEFT JOIN locked ON locked.meter_id = requested.meter_id
          WHERE locked.id IS NULL
             OR locked.user_id <> requested.user_id
             OR NOT (locked.state = ANY($4::smallint[]))
             OR ($5::boolean AND NOT locked.remote_controllable)
       )
       SELECT * FROM unfit ORDER BY "position" LIMIT 1`,
      [tenantId, pairs.userIds, pairs.meterIds, allowedStates, remoteOnly],
    )) as UnfitPair[];
    return rows[0];
  }

  /**
   * ReadCurrentData for any number of pairs in one statement, one row per pair in request order,
   * whether or not the pair matches (the caller decides). The ledger figures, over the meter's
   * entries (amounts are signed, see ledger_entry_amount_sign):
   *
   * - totalBuyMoney (累计购气金额): the money the CIS put on this meter, net:
   *   opening + recharge − recharge_cancel + refund (返充) − deduct (补扣) + transfer_in, less
   *   the reversals of those whose command failed or expired at the meter.
   *   A transfer_out (MeterChange moving the balance to the new meter) is not an un-purchase and
   *   is left out, so a replaced meter keeps the total it was bought.
   * - ledgerBalance: every entry, transfer_out included: what the platform credited to the meter
   *   and not moved off it, before any gas use.
   *
   * Times come formatted in `timeZone` (DECISIONS §4) by PostgreSQL, which knows the same IANA
   * zones: for 10,000 meters that is free, where formatting them one by one in JavaScript costs
   * a noticeable part of the 2-second budget.
   */
  async findCurrentData(tenantId: number, pairs: MeterPairs, timeZone: string): Promise<CurrentDataRow[]> {
    return (await this.manager.query(
      `SELECT requested.user_id AS "userId",
              requested.meter_id AS "meterId",
              meter.id AS "meterKey",
              customer.user_id AS "ownerUserId",
              meter.state AS "state",
              meter.valve_state AS "valveState",
              meter.initial_reading AS "initialReading",
              meter.end_reading AS "endReading",
              to_char(meter.opened_at AT TIME ZONE $4, 'YYYY-MM-DD HH24:MI:SS') AS "openedAt",
              to_char(meter.closed_at AT TIME ZONE $4, 'YYYY-MM-DD HH24:MI:SS') AS "closedAt",
              to_char(snapshot.read_at AT TIME ZONE $4, 'YYYY-MM-DD HH24:MI:SS') AS "reportedAt",
              snapshot.reading AS "reportedReading",
              snapshot.temperature AS "temperature",
              snapshot.pressure AS "pressure",
              snapshot.remain_money AS "reportedRemainMoney",
              snapshot.total_used_gas AS "totalUsedGas",
              snapshot.total_used_money AS "totalUsedMoney",
              snapshot.price AS "reportedPrice",
              scheme.price1 AS "schemePrice1",
              money.total_buy AS "totalBuyMoney",
              money.balance AS "ledgerBalance"
         FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS requested (user_id, meter_id, position)
         LEFT JOIN meter ON meter.tenant_id = $1 AND meter.meter_id = requested.meter_id
         LEFT JOIN customer ON customer.id = meter.customer_id
         LEFT JOIN meter_snapshot AS snapshot ON snapshot.meter_id = meter.id
         LEFT JOIN price_scheme AS scheme ON scheme.id = meter.price_scheme_id
         LEFT JOIN LATERAL (
           SELECT coalesce(sum(entry.amount) FILTER (WHERE entry.kind = ANY($5::text[])), 0) AS total_buy,
                  coalesce(sum(entry.amount), 0) AS balance
             FROM ledger_entry AS entry
            WHERE entry.meter_id = meter.id
         ) AS money ON true
        ORDER BY requested.position`,
      [tenantId, pairs.userIds, pairs.meterIds, timeZone, PURCHASE_KINDS],
    )) as CurrentDataRow[];
  }

  async setState(meter: MeterEntity, state: MeterState, extra: Partial<MeterEntity> = {}): Promise<void> {
    await this.manager.update(MeterEntity, { id: meter.id }, { state, ...extra });
    Object.assign(meter, { state, ...extra });
  }
}
