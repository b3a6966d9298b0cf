import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The Redeemer's round-end margin learns from how many L1 blocks its txs took from the head they
 * were judged at to the block that mined them (MiningDelays). Kept in memory only, it fell back
 * to the configured floor at every restart, just when the first txs near a round's end could be
 * mined in the next round and revert. Both L1 blocks are stored with the tx (neither `sent_block`,
 * moved by every replacement, nor `block_number`, an L2 number on Arbitrum, is one), and the
 * signer's last mined ones are read back at boot through a partial index over the rows that
 * have them, newest mined first, carrying both: a short index-only range however long the
 * signer's history. Rows from before this migration have neither and are never read.
 */
export class AddMinedL1BlocksToChainTx1796337040558 implements MigrationInterface {
  name = 'AddMinedL1BlocksToChainTx1796337040558';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "chain_tx" ADD "judged_l1_block" bigint, ADD "mined_l1_block" bigint`);
    await q.query(
      `CREATE INDEX "idx_chain_tx_mined_l1" ON "chain_tx" ("chain_id", "signer", "block_number" DESC, "id" DESC)
        INCLUDE ("judged_l1_block", "mined_l1_block")
        WHERE "mined_l1_block" IS NOT NULL AND "judged_l1_block" IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "idx_chain_tx_mined_l1"`);
    await q.query(`ALTER TABLE "chain_tx" DROP COLUMN "mined_l1_block", DROP COLUMN "judged_l1_block"`);
  }
}
