/**
 * The command queue's SQL, all of it, in one place (STYLE §10).
 *
 * A command (meter_command) moves:
 *
 *     queued ──claim──▶ sent ──ack ok──▶ succeeded
 *       │                 │ ╲──ack rejected──▶ failed
 *       │                 ╰──deadline passed, attempts left──▶ sent again (attempt n+1)
 *       │                 ╰──deadline passed, no attempts left──▶ failed
 *       ├──CancelRecharge (UPDATE … WHERE state = 'queued')──▶ cancelled
 *       ╰──older than its kind's expiry──▶ expired
 *
 * Rules the statements keep, and how:
 *
 * - Per-meter order, at most one command in flight per meter: a meter's *head* is its unfinished
 *   command (queued or sent) with the lowest sequence. Only the head is ever claimed, and a sent
 *   head stays the head until it finishes, so nothing behind it moves meanwhile.
 * - Several platform processes share the work: the claim locks the heads it takes with
 *   `FOR UPDATE SKIP LOCKED`; a head another transaction holds (a concurrent claim, an ack, a
 *   CancelRecharge) is skipped, never waited for, and picked up at a later wake-up.
 * - Cancelled or sent, never both: the claim's lock re-reads the row (READ COMMITTED re-checks
 *   the WHERE clause on the newest row version), so a head that CancelRecharge has just moved to
 *   `cancelled` no longer qualifies, and a head the claim has moved to `sent` no longer matches
 *   CancelRecharge's `state = 'queued'`. Whichever commits first wins.
 * - Every change is recorded in meter_command_event by the trigger of migration 1764000005000.
 * - Money the meter never got is reversed in the ledger in the transaction that fails or expires
 *   its command (REVERSE_UNAPPLIED_MONEY), so a failed or expired recharge is never counted.
 * - Set-based: each statement handles every meter of an uplink or acknowledgement at once, with
 *   the ids as one array parameter.
 *
 * All times are the database's `now()`, so several processes agree on deadlines and expiries.
 */

/**
 * Finishes what can no longer be delivered, for the given meters ($1 bigint[]):
 * queued commands older than their kind's expiry ($2 kinds, $3 seconds, see command-policy.ts)
 * become `expired`; sent commands whose last attempt ($4 = max attempts) timed out become `failed`.
 * Runs before the claim, in the same transaction, so that a dead head does not block its meter.
 */
export const SETTLE_FOR_METERS = settleSql('meter_id = ANY($1::bigint[])');

/** The same for the whole queue ($1 is ignored): the periodic sweep and the start-up sweep. */
export const SETTLE_ALL = settleSql('$1::bigint[] IS NULL');

function settleSql(meterFilter: string): string {
  return `
    WITH policy (kind, expires_after) AS (
      SELECT kind, make_interval(secs => seconds)
        FROM unnest($2::text[], $3::integer[]) AS p (kind, seconds)
    ), expired AS (
      UPDATE meter_command AS c
         SET state = 'expired', finished_at = now(),
             result_message = 'expired before it could be delivered'
        FROM policy
       WHERE ${meterFilter.replace('meter_id', 'c.meter_id')}
         AND c.state = 'queued'
         AND policy.kind = c.kind
         AND coalesce(c.expires_at, c.created_at + policy.expires_after) <= now()
      RETURNING c.id, c.meter_id, c.kind, c.payload, c.sequence, c.correlation_id, c.state
    ), exhausted AS (
      UPDATE meter_command AS c
         SET state = 'failed', finished_at = now(),
             result_message = format('no acknowledgement after %s attempts', c.attempts)
       WHERE ${meterFilter.replace('meter_id', 'c.meter_id')}
         AND c.state = 'sent'
         AND c.ack_deadline <= now()
         AND c.attempts >= $4
      RETURNING c.id, c.meter_id, c.kind, c.payload, c.sequence, c.correlation_id, c.state
    )
    SELECT * FROM expired UNION ALL SELECT * FROM exhausted`;
}

/**
 * The claim: for each meter of $1 (bigint[]), its head, if it is due, moves to `sent`.
 *
 * Due: queued (the settle step above has already expired the stale ones), or sent with its
 * acknowledgement deadline passed and attempts left ($4 = max attempts): a re-send, which the
 * meter recognises by its sequence and does not apply twice.
 *
 * $2 this process's link_instance id, $3 acknowledgement timeout in seconds, $4 max attempts.
 * Returns the claimed commands; the caller hands them to the gateway in its HTTP answer, after
 * the transaction commits.
 */
export const CLAIM_FOR_METERS = `
  WITH head AS (
    SELECT DISTINCT ON (meter_id) id
      FROM meter_command
     WHERE meter_id = ANY($1::bigint[]) AND state IN ('queued', 'sent')
     ORDER BY meter_id, sequence
  ), due AS (
    -- The conditions are on c, the locked row, so that the lock's re-check sees a concurrent
    -- CancelRecharge or acknowledgement (see above). SKIP LOCKED: never wait for another process.
    SELECT c.id
      FROM meter_command AS c
      JOIN head ON head.id = c.id
     WHERE c.state = 'queued'
        OR (c.state = 'sent' AND c.ack_deadline <= now() AND c.attempts < $4)
       FOR UPDATE OF c SKIP LOCKED
  )
  UPDATE meter_command AS c
     SET state = 'sent',
         attempts = c.attempts + 1,
         sent_at = now(),
         ack_deadline = now() + make_interval(secs => $3),
         sent_by = $2,
         result_message = format('sent, attempt %s of %s', c.attempts + 1, $4)
    FROM due
   WHERE c.id = due.id
  RETURNING c.id, c.meter_id, c.sequence, c.kind, c.payload, c.attempts, c.correlation_id`;

/**
 * Acknowledgements: ($1 meter ids, $2 sequences, $3 applied?, $4 messages), one element each.
 * Only a sent command takes an acknowledgement; one for a command that has already finished
 * (a repeated acknowledgement, or one after the command ran out of attempts) matches nothing and
 * is reported back as ignored. A meter that applied a sequence before and says so ("duplicate")
 * counts as applied.
 */
export const ACKNOWLEDGE = `
  WITH ack AS (
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::boolean[], $4::text[])
      AS a (meter_id, sequence, applied, message)
  )
  UPDATE meter_command AS c
     SET state = CASE WHEN ack.applied THEN 'succeeded' ELSE 'failed' END,
         finished_at = now(),
         result_message = left(
           CASE WHEN ack.applied THEN 'acknowledged by the meter' || coalesce(': ' || ack.message, '')
                ELSE 'rejected by the meter' || coalesce(': ' || ack.message, '') END, 200)
    FROM ack
   WHERE c.meter_id = ack.meter_id AND c.sequence = ack.sequence AND c.state = 'sent'
  RETURNING c.id, c.meter_id, c.sequence, c.kind, c.payload, c.state, c.correlation_id`;

/**
 * Money the meter never got: for the given commands ($1 bigint[], recharge and remain_option
 * commands that have just become `failed` or `expired` in this transaction), each ledger entry
 * that carried money to the meter ($2, MONEY_TO_METER_KINDS) gets a `reversal` entry with the opposite amount, linked to it
 * by `cancels_entry_id`, so ReadCurrentData's TotalBuyMoney and balance stop counting it
 * (migration 1764000007000 checks that a reversal is exact). The money-carrying entries are
 * opening (MeterAdd PreSaving), recharge, refund (返充), deduct (补扣) and transfer_in (MeterChange:
 * the balance reaching the new meter; the old meter's transfer_out has no command and stays).
 *
 * The command's result message says so, which adds an event to its history (`command show`).
 * Returns one row per reversal. Runs in the transaction that finished the commands, one
 * statement for all of them.
 */
export const REVERSE_UNAPPLIED_MONEY = `
  WITH reversed AS (
    INSERT INTO ledger_entry (tenant_id, meter_id, customer_id, kind, trade_no, amount,
                              operator_name, occurred_at, command_id, cancels_entry_id)
    SELECT original.tenant_id, original.meter_id, original.customer_id, 'reversal',
           original.trade_no, -original.amount, NULL, now(), original.command_id, original.id
      FROM ledger_entry AS original
     WHERE original.command_id = ANY($1::bigint[])
       AND original.kind = ANY($2::text[])
     ORDER BY original.id
    RETURNING id, command_id, cancels_entry_id, amount, trade_no
  ), noted AS (
    UPDATE meter_command AS c
       SET result_message = left(format('%s; ledger entry %s reversed by entry %s (%s)',
                                        c.result_message, reversed.cancels_entry_id, reversed.id,
                                        reversed.amount), 200)
      FROM reversed
     WHERE c.id = reversed.command_id
  )
  SELECT id::text AS "entryId", command_id::text AS "commandId",
         cancels_entry_id::text AS "reversedEntryId", amount::text AS amount, trade_no AS "tradeNo"
    FROM reversed`;

/**
 * Valve state while a valve command is in flight (spec §8: 10 正在开关阀). $1 meter ids.
 * `valve_state_at` dates the change so that an older report cannot overwrite it.
 */
export const MARK_VALVES_MOVING = `
  UPDATE meter SET valve_state = '10', valve_state_at = now(), updated_at = now()
   WHERE id = ANY($1::bigint[]) AND valve_state <> '10'`;

/**
 * Valve state when a valve command finishes. $1 meter ids, $2 the new state for each: '00' or
 * '01' after an applied close or open; NULL after a failure, which puts back the valve state the
 * meter last reported (open if it never reported).
 */
export const SETTLE_VALVES = `
  UPDATE meter AS m
     SET valve_state = coalesce(v.valve_state, snapshot.valve_state, '01'),
         valve_state_at = now(), updated_at = now()
    FROM unnest($1::bigint[], $2::text[]) AS v (meter_id, valve_state)
    LEFT JOIN meter_snapshot AS snapshot ON snapshot.meter_id = v.meter_id
   WHERE m.id = v.meter_id AND (v.valve_state IS NOT NULL OR m.valve_state = '10')`;

/**
 * Sends orphaned by a platform process that is gone: they were marked sent, but the process may
 * have died before its HTTP answer reached the gateway. They become due at once instead of
 * waiting for their deadline (re-sending is always safe: the meter applies a sequence once).
 *
 * $1 this process's id. $2 seconds without a heartbeat after which a process counts as gone.
 * $3 true when this process is known to be the only one (the embedded database serves a single
 * process), so that every other process counts as gone.
 */
export const REARM_ORPHANED_SENDS = `
  UPDATE meter_command AS c
     SET ack_deadline = now(),
         result_message = 'sent by a platform process that has stopped; due again'
   WHERE c.state = 'sent'
     AND c.ack_deadline > now()
     AND c.sent_by IS DISTINCT FROM $1
     AND ($3::boolean OR NOT EXISTS (
           SELECT 1 FROM link_instance AS i
            WHERE i.id = c.sent_by AND i.stopped_at IS NULL
              AND i.heartbeat_at > now() - make_interval(secs => $2)))
  RETURNING c.id, c.meter_id, c.correlation_id`;

export const REGISTER_INSTANCE = `
  INSERT INTO link_instance (id, host, pid) VALUES ($1, $2, $3)`;

export const HEARTBEAT = `
  UPDATE link_instance SET heartbeat_at = now() WHERE id = $1`;

export const STOP_INSTANCE = `
  UPDATE link_instance SET stopped_at = now() WHERE id = $1`;
