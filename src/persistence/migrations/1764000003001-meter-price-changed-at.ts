import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * ChangePrice and BatchChangePrice require a ChangeTime (调价时间, spec §5.3.10, §5.3.11); it is
 * kept on the meter next to the price it dated. NULL: the price is the one the account opened
 * with. The meter row is written in the same statement that switches the price, so recording it
 * costs nothing in a batch of 100,000 meters.
 */
export class MeterPriceChangedAt1764000003001 implements MigrationInterface {
  name = 'MeterPriceChangedAt1764000003001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE meter ADD COLUMN price_changed_at timestamptz`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE meter DROP COLUMN price_changed_at`);
  }
}
