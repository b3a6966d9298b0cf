import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateRecipientSecret1795305090346 implements MigrationInterface {
  name = 'CreateRecipientSecret1795305090346';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "recipient_secret" (
        "id" bigserial NOT NULL,
        "recipient" text NOT NULL,
        "iv" bytea NOT NULL,
        "ciphertext" bytea NOT NULL,
        "auth_tag" bytea NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "retired_at" timestamptz,
        "accept_until_block" bigint,
        CONSTRAINT "pk_recipient_secret" PRIMARY KEY ("id"),
        CONSTRAINT "chk_recipient_secret_retired"
          CHECK (("retired_at" IS NULL) = ("accept_until_block" IS NULL))
      )`);
    await q.query(
      `CREATE UNIQUE INDEX "uq_recipient_secret_current" ON "recipient_secret" ("recipient") WHERE "retired_at" IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "recipient_secret"`);
  }
}
