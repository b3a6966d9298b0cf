import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  OneToOne,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';
import { ChainTxEntity } from '../chain-tx/chain-tx.entity.js';
import { uint256Transformer } from '../transformers.js';
import { WinningTicketEntity } from '../winning-ticket/winning-ticket.entity.js';

/**
 * The Redeemer's bookkeeping for one winning ticket (1:1 with `winning_ticket`, created on first
 * processing): retries for back-off, the last reason it could not go through, and, once redeemed,
 * the tx and the amount the recipient was actually paid (below face value if the sender was short).
 */
@Entity({ name: 'redemption' })
export class RedemptionEntity {
  @PrimaryColumn({ name: 'ticket_hash', type: 'text' })
  ticketHash!: string;

  // The relations only declare the migration's foreign keys (so TypeORM's schema diff keeps
  // them); code reads and writes the id columns and never loads these.
  @OneToOne(() => WinningTicketEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'ticket_hash', foreignKeyConstraintName: 'fk_redemption_ticket' })
  ticket?: WinningTicketEntity;

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

  @ManyToOne(() => ChainTxEntity, { onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'chain_tx_id', foreignKeyConstraintName: 'fk_redemption_chain_tx' })
  chainTx?: ChainTxEntity;

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
