import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The Redeemer's state: transactions per signer (with their nonce source) and per-ticket redemption records. */
export class CreateRedemptionTables1795305474866 implements MigrationInterface {
  name = 'CreateRedemptionTables1795305474866';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "signer_nonce" (
        "chain_id" bigint NOT NULL,
        "signer" text NOT NULL,
        "next_nonce" bigint NOT NULL,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_signer_nonce" PRIMARY KEY ("chain_id", "signer")
      )`);
    await q.query(`
      CREATE TABLE "chain_tx" (
        "id" bigserial NOT NULL,
        "chain_id" bigint NOT NULL,
        "signer" text NOT NULL,
        "nonce" bigint NOT NULL,
        "purpose" text NOT NULL,
        "to_address" text NOT NULL,
        "data" text NOT NULL,
        "value" numeric(78,0) NOT NULL,
        "gas_limit" numeric(78,0) NOT NULL,
        "max_fee_per_gas" numeric(78,0),
        "max_priority_fee_per_gas" numeric(78,0),
        "gas_price" numeric(78,0),
        "refs" text[] NOT NULL DEFAULT '{}',
        "hashes" text[] NOT NULL,
        "raw_tx" text NOT NULL,
        "status" text NOT NULL,
        "sent_block" bigint NOT NULL,
        "replacements" integer NOT NULL DEFAULT 0,
        "mined_hash" text,
        "block_number" bigint,
        "gas_used" numeric(78,0),
        "effective_gas_price" numeric(78,0),
        "error_code" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "finished_at" timestamptz,
        CONSTRAINT "pk_chain_tx" PRIMARY KEY ("id"),
        CONSTRAINT "chk_chain_tx_status" CHECK (status IN ('pending','mined','reverted','dropped'))
      )`);
    await q.query(`CREATE INDEX "idx_chain_tx_signer_status" ON "chain_tx" ("chain_id", "signer", "status")`);
    // A nonce may be reused only after the tx holding it was dropped (never mined).
    await q.query(
      `CREATE UNIQUE INDEX "uq_chain_tx_live_nonce" ON "chain_tx" ("chain_id", "signer", "nonce") WHERE "status" <> 'dropped'`,
    );
    await q.query(`CREATE INDEX "idx_chain_tx_refs" ON "chain_tx" USING GIN ("refs")`);
    await q.query(`
      CREATE TABLE "redemption" (
        "ticket_hash" text NOT NULL,
        "attempts" integer NOT NULL DEFAULT 0,
        "last_code" text,
        "last_error" text,
        "chain_tx_id" bigint,
        "amount_paid" numeric(78,0),
        "redeemed_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_redemption" PRIMARY KEY ("ticket_hash"),
        CONSTRAINT "fk_redemption_ticket" FOREIGN KEY ("ticket_hash")
          REFERENCES "winning_ticket" ("ticket_hash") ON DELETE CASCADE,
        CONSTRAINT "fk_redemption_chain_tx" FOREIGN KEY ("chain_tx_id") REFERENCES "chain_tx" ("id")
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "redemption"`);
    await q.query(`DROP TABLE "chain_tx"`);
    await q.query(`DROP TABLE "signer_nonce"`);
  }
}
