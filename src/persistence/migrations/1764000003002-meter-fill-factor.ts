import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Room on each page of `meter` for the row's next version. A meter row is rewritten by every
 * command queued for it (its command sequence), by every price change and by the meter link's
 * reports, and BatchChangePrice rewrites 100,000 of them in one transaction. With half of each
 * page free, PostgreSQL keeps the new version on the same page and skips the four index entries
 * a moved row needs (a heap-only tuple update): the batch's UPDATE costs about a sixth.
 *
 * The price is space: the table takes about twice the pages (some 250 MB per million meters).
 * It applies to pages written from now on; existing ones follow when the table is rewritten
 * (VACUUM FULL, pg_repack), which this migration does not do, so that it never locks the table.
 */
export class MeterFillFactor1764000003002 implements MigrationInterface {
  name = 'MeterFillFactor1764000003002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE meter SET (fillfactor = 50)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE meter RESET (fillfactor)`);
  }
}
