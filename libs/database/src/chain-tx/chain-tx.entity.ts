import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { int8Transformer, uint256Transformer } from '../transformers.js';

/**
 * One transaction of a signer: one nonce, with every same-nonce variant signed for it (fee bumps).
 * Written before it is broadcast, so a crash can never leave an unrecorded tx on chain. `refs` are
 * the ticket hashes it redeems. Status values mirror `ChainTxStatus` in #app/chain.
 */
@Entity({ name: 'chain_tx' })
@Index('idx_chain_tx_signer_status', ['chainId', 'signer', 'status'])
@Index('uq_chain_tx_live_nonce', ['chainId', 'signer', 'nonce'], {
  unique: true,
  where: `"status" <> 'dropped'`,
})
@Check('chk_chain_tx_status', `status IN ('pending','mined','reverted','dropped')`)
export class ChainTxEntity {
  /** bigserial; pg returns int8 as a decimal string. */
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'chain_id', type: 'bigint', transformer: int8Transformer })
  chainId!: bigint;

  /** 0x-prefixed lowercase address. */
  @Column({ type: 'text' })
  signer!: string;

  @Column({ type: 'bigint', transformer: int8Transformer })
  nonce!: bigint;

  @Column({ type: 'text' })
  purpose!: string;

  @Column({ name: 'to_address', type: 'text' })
  to!: string;

  @Column({ type: 'text' })
  data!: string;

  @Column({ type: 'numeric', precision: 78, scale: 0, transformer: uint256Transformer })
  value!: bigint;

  @Column({ name: 'gas_limit', type: 'numeric', precision: 78, scale: 0, transformer: uint256Transformer })
  gasLimit!: bigint;

  @Column({
    name: 'max_fee_per_gas',
    type: 'numeric',
    precision: 78,
    scale: 0,
    nullable: true,
    transformer: uint256Transformer,
  })
  maxFeePerGas!: bigint | null;

  @Column({
    name: 'max_priority_fee_per_gas',
    type: 'numeric',
    precision: 78,
    scale: 0,
    nullable: true,
    transformer: uint256Transformer,
  })
  maxPriorityFeePerGas!: bigint | null;

  @Column({
    name: 'gas_price',
    type: 'numeric',
    precision: 78,
    scale: 0,
    nullable: true,
    transformer: uint256Transformer,
  })
  gasPrice!: bigint | null;

  /** Ticket hashes (or other references) this tx acts on; GIN-indexed for look-ups by ticket. */
  @Index('idx_chain_tx_refs', { synchronize: false })
  @Column({ type: 'text', array: true, default: () => `'{}'` })
  refs!: string[];

  /** Every signed variant's hash, oldest first. */
  @Column({ type: 'text', array: true })
  hashes!: string[];

  /** The current variant, signed: re-broadcast after a crash without re-signing. */
  @Column({ name: 'raw_tx', type: 'text' })
  rawTx!: string;

  @Column({ type: 'text' })
  status!: string;

  @Column({ name: 'sent_block', type: 'bigint', transformer: int8Transformer })
  sentBlock!: bigint;

  /** L1 block of the head the tx was judged at (redemptions): where its mining delay starts. */
  @Column({ name: 'judged_l1_block', type: 'bigint', nullable: true, transformer: int8Transformer })
  judgedL1Block!: bigint | null;

  @Column({ type: 'integer', default: 0 })
  replacements!: number;

  @Column({ name: 'mined_hash', type: 'text', nullable: true })
  minedHash!: string | null;

  @Column({ name: 'block_number', type: 'bigint', nullable: true, transformer: int8Transformer })
  blockNumber!: bigint | null;

  /** Hash of the block that mined it, as its receipt gave it when it went final. */
  @Column({ name: 'block_hash', type: 'text', nullable: true })
  blockHash!: string | null;

  /**
   * L1 block of `blockNumber`, recorded once read for a tx with `judgedL1Block`. A partial index
   * over the rows that have both (by signer, newest mined first) seeds the round-end margin at boot.
   */
  @Index('idx_chain_tx_mined_l1', { synchronize: false })
  @Column({ name: 'mined_l1_block', type: 'bigint', nullable: true, transformer: int8Transformer })
  minedL1Block!: bigint | null;

  @Column({
    name: 'gas_used',
    type: 'numeric',
    precision: 78,
    scale: 0,
    nullable: true,
    transformer: uint256Transformer,
  })
  gasUsed!: bigint | null;

  @Column({
    name: 'effective_gas_price',
    type: 'numeric',
    precision: 78,
    scale: 0,
    nullable: true,
    transformer: uint256Transformer,
  })
  effectiveGasPrice!: bigint | null;

  @Column({ name: 'error_code', type: 'text', nullable: true })
  errorCode!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
