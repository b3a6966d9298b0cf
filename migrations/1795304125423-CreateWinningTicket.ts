import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateWinningTicket1795304125423 implements MigrationInterface {
  name = 'CreateWinningTicket1795304125423';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "winning_ticket" (
        "ticket_hash" text NOT NULL,
        "recipient" text NOT NULL,
        "sender" text NOT NULL,
        "face_value" numeric(78,0) NOT NULL,
        "win_prob" numeric(78,0) NOT NULL,
        "sender_nonce" bigint NOT NULL,
        "recipient_rand_hash" text NOT NULL,
        "creation_round" bigint NOT NULL,
        "creation_round_block_hash" text NOT NULL,
        "params_expiration_block" bigint NOT NULL,
        "sig" text NOT NULL,
        "recipient_rand" numeric(78,0) NOT NULL,
        "status" text NOT NULL DEFAULT 'received',
        "status_reason" text,
        "tx_hash" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_winning_ticket" PRIMARY KEY ("ticket_hash"),
        CONSTRAINT "uq_winning_ticket_sig" UNIQUE ("sig"),
        CONSTRAINT "chk_winning_ticket_status"
          CHECK (status IN ('received','queued','submitting','submitted','redeemed','failed','expired'))
      )`);
    await q.query(`CREATE INDEX "idx_winning_ticket_status" ON "winning_ticket" ("status")`);
    await q.query(`CREATE INDEX "idx_winning_ticket_sender_status" ON "winning_ticket" ("sender", "status")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "winning_ticket"`);
  }
}
