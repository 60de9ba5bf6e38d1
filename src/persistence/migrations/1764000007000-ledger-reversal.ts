import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The `reversal` ledger entry: money the meter never got. A command that carries money to the
 * meter (a `recharge` for a Recharge, a MeterAdd PreSaving or a MeterChange transfer; a
 * `remain_option` for 返充 / 补扣) may end `failed` (rejected, or no acknowledgement after its
 * last attempt) or `expired` (the meter never woke up in time). The meter link then appends, in
 * the transaction that finishes the command, one `reversal` per ledger entry of that command,
 * with the opposite amount, so TotalBuyMoney and the balance no longer count it.
 *
 * The ledger stays append-only: the original entry is kept, the reversal names it in
 * `cancels_entry_id`, whose UNIQUE already means an entry is withdrawn at most once, by a
 * CancelRecharge or by a reversal, never both.
 *
 * What a reversal must be is checked by the database, not trusted to the code that writes it:
 * a statement-level trigger (one pass per INSERT statement, however many rows) refuses a reversal
 * that is not exactly the opposite of a money entry of the same meter and command, or whose
 * command did not fail or expire.
 */
export class LedgerReversal1764000007000 implements MigrationInterface {
  name = 'LedgerReversal1764000007000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE ledger_entry DROP CONSTRAINT ledger_entry_kind_check`);
    await queryRunner.query(`
      ALTER TABLE ledger_entry ADD CONSTRAINT ledger_entry_kind_check CHECK (kind IN ('opening',
        'recharge', 'recharge_cancel', 'refund', 'deduct', 'transfer_out', 'transfer_in', 'reversal'))`);

    // A reversal's sign is the opposite of its original's, which a row CHECK cannot see: the
    // trigger below checks the exact amount.
    await queryRunner.query(`ALTER TABLE ledger_entry DROP CONSTRAINT ledger_entry_amount_sign`);
    await queryRunner.query(`
      ALTER TABLE ledger_entry ADD CONSTRAINT ledger_entry_amount_sign CHECK (
        (kind IN ('opening', 'recharge', 'refund', 'transfer_in') AND amount > 0)
        OR (kind IN ('recharge_cancel', 'deduct', 'transfer_out') AND amount < 0)
        OR (kind = 'reversal' AND amount <> 0))`);

    await queryRunner.query(`ALTER TABLE ledger_entry DROP CONSTRAINT ledger_entry_cancel_link`);
    await queryRunner.query(`
      ALTER TABLE ledger_entry ADD CONSTRAINT ledger_entry_cancel_link CHECK (
        (kind IN ('recharge_cancel', 'reversal')) = (cancels_entry_id IS NOT NULL))`);

    // The meter link finds a finished command's entries by command id.
    await queryRunner.query(`
      CREATE INDEX ledger_entry_command_idx ON ledger_entry (command_id) WHERE command_id IS NOT NULL`);

    await queryRunner.query(`
      CREATE FUNCTION ledger_entry_check_reversals() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        wrong bigint;
      BEGIN
        SELECT reversal.id INTO wrong
          FROM inserted_entries AS reversal
          LEFT JOIN ledger_entry AS original ON original.id = reversal.cancels_entry_id
          LEFT JOIN meter_command AS command ON command.id = reversal.command_id
         WHERE reversal.kind = 'reversal'
           AND NOT (original.kind IN ('opening', 'recharge', 'refund', 'deduct', 'transfer_in')
                    AND original.meter_id = reversal.meter_id
                    AND original.command_id = reversal.command_id
                    AND original.amount = -reversal.amount
                    AND command.state IN ('failed', 'expired'))
             IS NOT FALSE
         LIMIT 1;
        IF wrong IS NOT NULL THEN
          RAISE EXCEPTION 'ledger entry % is not the exact reversal of a money entry whose command failed or expired', wrong
            USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER ledger_entry_reversal_rules
        AFTER INSERT ON ledger_entry REFERENCING NEW TABLE AS inserted_entries
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_entry_check_reversals()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER ledger_entry_reversal_rules ON ledger_entry`);
    await queryRunner.query(`DROP FUNCTION ledger_entry_check_reversals()`);
    await queryRunner.query(`DROP INDEX ledger_entry_command_idx`);
    await queryRunner.query(`ALTER TABLE ledger_entry DROP CONSTRAINT ledger_entry_cancel_link`);
    await queryRunner.query(`
      ALTER TABLE ledger_entry ADD CONSTRAINT ledger_entry_cancel_link CHECK (
        (kind = 'recharge_cancel') = (cancels_entry_id IS NOT NULL))`);
    await queryRunner.query(`ALTER TABLE ledger_entry DROP CONSTRAINT ledger_entry_amount_sign`);
    await queryRunner.query(`
      ALTER TABLE ledger_entry ADD CONSTRAINT ledger_entry_amount_sign CHECK (
        (kind IN ('opening', 'recharge', 'refund', 'transfer_in') AND amount > 0)
        OR (kind IN ('recharge_cancel', 'deduct', 'transfer_out') AND amount < 0))`);
    await queryRunner.query(`ALTER TABLE ledger_entry DROP CONSTRAINT ledger_entry_kind_check`);
    await queryRunner.query(`
      ALTER TABLE ledger_entry ADD CONSTRAINT ledger_entry_kind_check CHECK (kind IN ('opening',
        'recharge', 'recharge_cancel', 'refund', 'deduct', 'transfer_out', 'transfer_in'))`);
  }
}
