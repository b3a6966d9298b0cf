import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * For a while after a tx goes final, its Redeemer checks that the block that mined it is still on
 * chain: a reorganisation deeper than the confirmations may mine it again elsewhere with another
 * outcome. Only the block number was stored, so after a restart the check fell back to comparing
 * the receipt's fields, blind to a copy mined at the same height with the same status and gas but
 * other logs. The block's hash, written with the outcome, makes it exact. Rows from before (and
 * outcomes a settlement corrected from logs without one) have none and keep the field check.
 */
export class AddBlockHashToChainTx1796486837337 implements MigrationInterface {
  name = 'AddBlockHashToChainTx1796486837337';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "chain_tx" ADD "block_hash" text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "chain_tx" DROP COLUMN "block_hash"`);
  }
}
