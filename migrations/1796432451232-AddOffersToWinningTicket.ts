import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A payment refused after it stored its winners takes them back, unless a redemption claimed
 * them. Another payment carrying the same winner (a retry, a replay) finds the row stored and may
 * be credited for it: taking it back then lost a credited winner. Each row now counts the
 * payments that offered it while unclaimed, and only a row one payment offered is taken back.
 * A constant default: the column is added without rewriting the table; existing rows count one.
 */
export class AddOffersToWinningTicket1796432451232 implements MigrationInterface {
  name = 'AddOffersToWinningTicket1796432451232';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "winning_ticket" ADD "offers" integer NOT NULL DEFAULT 1`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "winning_ticket" DROP COLUMN "offers"`);
  }
}
