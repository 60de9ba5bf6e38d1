import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The money ledger's rules as constraints, so that no code path can break them (issue 3):
 *
 * - each kind of entry moves money one way: credits (opening, recharge, refund 返充,
 *   transfer_in) are positive, debits (recharge_cancel, deduct 补扣, transfer_out) negative;
 * - only a recharge_cancel names the entry it cancels, and it always does.
 *
 * `cancels_entry_id` is already UNIQUE (a recharge is cancelled at most once) and TradeNo is
 * already unique per tenant across recharge, refund and deduct (`ledger_entry_trade_no_key`).
 */
export class LedgerEntryRules1764000003000 implements MigrationInterface {
  name = 'LedgerEntryRules1764000003000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE ledger_entry ADD CONSTRAINT ledger_entry_amount_sign CHECK (
        (kind IN ('opening', 'recharge', 'refund', 'transfer_in') AND amount > 0)
        OR (kind IN ('recharge_cancel', 'deduct', 'transfer_out') AND amount < 0))`);
    await queryRunner.query(`
      ALTER TABLE ledger_entry ADD CONSTRAINT ledger_entry_cancel_link CHECK (
        (kind = 'recharge_cancel') = (cancels_entry_id IS NOT NULL))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE ledger_entry DROP CONSTRAINT ledger_entry_cancel_link`);
    await queryRunner.query(`ALTER TABLE ledger_entry DROP CONSTRAINT ledger_entry_amount_sign`);
  }
}
