import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { statusList } from '../read-model/status-sql.js';
import { int8Transformer, uint256Transformer } from '../transformers.js';

/** Redemption lifecycle; transitions are guarded by compare-and-set on `status`. */
export enum WinningTicketStatus {
  RECEIVED = 'received',
  QUEUED = 'queued',
  SUBMITTING = 'submitting',
  SUBMITTED = 'submitted',
  REDEEMED = 'redeemed',
  FAILED = 'failed',
  EXPIRED = 'expired',
}

/**
 * A winning ticket as received from a sender: everything needed to redeem it on-chain
 * (ticket fields, signature, the revealed recipientRand). Byte fields are 0x-prefixed lowercase hex.
 */
@Entity({ name: 'winning_ticket' })
@Index('idx_winning_ticket_status', ['status'])
@Index('idx_winning_ticket_sender_status', ['sender', 'status'])
@Check('chk_winning_ticket_status', `status IN (${statusList(Object.values(WinningTicketStatus))})`)
export class WinningTicketEntity {
  @PrimaryColumn({ name: 'ticket_hash', type: 'text' })
  ticketHash!: string;

  @Column({ type: 'text' })
  recipient!: string;

  /**
   * Also leads idx_winning_ticket_open_sender (migration 1796301867955): (sender, recipient)
   * INCLUDE (face_value) over the non-final rows, for the pending face value per sender. @Index
   * cannot describe INCLUDE, so it is declared by name only and left to the migration.
   */
  @Index('idx_winning_ticket_open_sender', { synchronize: false })
  @Column({ type: 'text' })
  sender!: string;

  @Column({ name: 'face_value', type: 'numeric', precision: 78, scale: 0, transformer: uint256Transformer })
  faceValue!: bigint;

  @Column({ name: 'win_prob', type: 'numeric', precision: 78, scale: 0, transformer: uint256Transformer })
  winProb!: bigint;

  @Column({ name: 'sender_nonce', type: 'bigint', transformer: int8Transformer })
  senderNonce!: bigint;

  @Column({ name: 'recipient_rand_hash', type: 'text' })
  recipientRandHash!: string;

  @Column({ name: 'creation_round', type: 'bigint', transformer: int8Transformer })
  creationRound!: bigint;

  @Column({ name: 'creation_round_block_hash', type: 'text' })
  creationRoundBlockHash!: string;

  @Column({ name: 'params_expiration_block', type: 'bigint', transformer: int8Transformer })
  paramsExpirationBlock!: bigint;

  /**
   * The L1 block from which recipientRand may be revealed, as the Recipient that accepted the
   * ticket decided (storedRevealBlock); null: the Redeemer's margin past the params' expiry.
   */
  @Column({ name: 'reveal_block', type: 'bigint', nullable: true, transformer: int8Transformer })
  revealBlock!: bigint | null;

  @Column({ type: 'text', unique: true })
  sig!: string;

  @Column({
    name: 'recipient_rand',
    type: 'numeric',
    precision: 78,
    scale: 0,
    transformer: uint256Transformer,
  })
  recipientRand!: bigint;

  @Column({ type: 'text', default: WinningTicketStatus.RECEIVED })
  status!: WinningTicketStatus;

  @Column({ name: 'status_reason', type: 'text', nullable: true })
  statusReason!: string | null;

  @Column({ name: 'tx_hash', type: 'text', nullable: true })
  txHash!: string | null;

  /**
   * How many payments offered the ticket while it was unclaimed: a refused payment takes back
   * only a winner no other payment offered (WinningTicketRepository.deleteUnclaimed). Not loaded.
   */
  @Column({ type: 'integer', default: 1, select: false })
  offers?: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
