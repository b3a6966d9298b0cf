import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { uint256Transformer } from '../transformers.js';

/**
 * The Redeemer's bookkeeping for one winning ticket (1:1 with `winning_ticket`, created on first
 * processing): retries for back-off, the last reason it could not go through, and, once redeemed,
 * the tx and the amount the recipient was actually paid (below face value if the sender was short).
 */
@Entity({ name: 'redemption' })
export class RedemptionEntity {
  @PrimaryColumn({ name: 'ticket_hash', type: 'text' })
  ticketHash!: string;

  /** Retryable failures so far: drives the back-off. Waits (params, funds, gas) do not count. */
  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'last_code', type: 'text', nullable: true })
  lastCode!: string | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  /** The `chain_tx` that redeemed it. */
  @Column({ name: 'chain_tx_id', type: 'bigint', nullable: true })
  chainTxId!: string | null;

  @Column({
    name: 'amount_paid',
    type: 'numeric',
    precision: 78,
    scale: 0,
    nullable: true,
    transformer: uint256Transformer,
  })
  amountPaid!: bigint | null;

  @Column({ name: 'redeemed_at', type: 'timestamptz', nullable: true })
  redeemedAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
