import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The L1 block from which a winning ticket's recipientRand may be revealed, as the Recipient that
 * accepted it decided (its params' expiry plus a margin covering how stale a head it judges on).
 * The Redeemer obeys it. Null for rows stored before (and tickets given by QueueTicket): the
 * Redeemer's own margin then applies, as before. Nullable: added without rewriting the table.
 */
export class AddRevealBlockToWinningTicket1796580000000 implements MigrationInterface {
  name = 'AddRevealBlockToWinningTicket1796580000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "winning_ticket" ADD "reveal_block" bigint`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "winning_ticket" DROP COLUMN "reveal_block"`);
  }
}
