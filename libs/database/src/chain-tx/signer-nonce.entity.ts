import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { int8Transformer } from '../transformers.js';

/**
 * The persisted nonce source of one signer on one chain: the next nonce it will use. Advanced in
 * the same database transaction that stores each `chain_tx`, and re-derived from the chain at boot
 * and after send errors.
 */
@Entity({ name: 'signer_nonce' })
export class SignerNonceEntity {
  @PrimaryColumn({ name: 'chain_id', type: 'bigint', transformer: int8Transformer })
  chainId!: bigint;

  /** 0x-prefixed lowercase address. */
  @PrimaryColumn({ type: 'text' })
  signer!: string;

  @Column({ name: 'next_nonce', type: 'bigint', transformer: int8Transformer })
  nextNonce!: bigint;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
