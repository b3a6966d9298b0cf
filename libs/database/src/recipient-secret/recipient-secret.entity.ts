import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { int8Transformer } from '../transformers.js';

/**
 * A Recipient's recipientRand HMAC secret, encrypted (AES-256-GCM, the key lives in the service's
 * configuration, never here). One current secret per recipient (`retired_at IS NULL`); a retired
 * one still validates the params it issued until `accept_until_block`.
 */
@Entity({ name: 'recipient_secret' })
@Index('uq_recipient_secret_current', ['recipient'], { unique: true, where: '"retired_at" IS NULL' })
// A secret is retired exactly when it has a last accepted block.
@Check('chk_recipient_secret_retired', `("retired_at" IS NULL) = ("accept_until_block" IS NULL)`)
export class RecipientSecretEntity {
  /** bigserial; pg returns int8 as a decimal string. */
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  /** 0x-prefixed lowercase address; also the AES-GCM associated data. */
  @Column({ type: 'text' })
  recipient!: string;

  @Column({ type: 'bytea' })
  iv!: Buffer;

  @Column({ type: 'bytea' })
  ciphertext!: Buffer;

  @Column({ name: 'auth_tag', type: 'bytea' })
  authTag!: Buffer;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true })
  retiredAt!: Date | null;

  /** Last params expiration block a retired secret is still accepted for. */
  @Column({
    name: 'accept_until_block',
    type: 'bigint',
    nullable: true,
    transformer: int8Transformer,
  })
  acceptUntilBlock!: bigint | null;
}
