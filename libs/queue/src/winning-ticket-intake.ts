import { Injectable, Logger } from '@nestjs/common';
import { WinningTicketRepository, type NewWinningTicket } from '#app/database';
import { bytesToHex, ticketHash, type SignedTicket } from '#app/ticket';
import { RedemptionQueue } from './redemption-queue.js';

export interface IntakeResult {
  ticketHash: string;
  /** False when the same ticket had been stored before: nothing was written twice. */
  stored: boolean;
}

/**
 * The one way a winning ticket enters the system (Recipient's ProcessPayment and the
 * SenderMonitor's QueueTicket): commit it to Postgres first, then enqueue its redemption. A
 * ticket is never only in Redis; if the enqueue fails the reconciler finds it in `received`.
 */
@Injectable()
export class WinningTicketIntake {
  private readonly logger = new Logger(WinningTicketIntake.name);

  constructor(
    private readonly tickets: WinningTicketRepository,
    private readonly queue: RedemptionQueue,
  ) {}

  async accept(ticket: SignedTicket): Promise<IntakeResult> {
    const row = toWinningTicketRow(ticket);
    const stored = await this.tickets.insertIfAbsent(row);
    try {
      await this.queue.enqueue({ ticketHash: row.ticketHash, sender: row.sender });
      await this.tickets.queue(row.ticketHash);
    } catch (err) {
      // Stored is what matters for the caller's answer; the reconciler re-enqueues `received` rows.
      this.logger.error({
        msg: 'enqueue failed, left for the reconciler',
        ticketHash: row.ticketHash,
        error: (err as Error).message,
      });
    }
    return { ticketHash: row.ticketHash, stored };
  }
}

/** The row for a signed ticket: byte fields as 0x-prefixed lowercase hex, integers as bigint. */
export function toWinningTicketRow(t: SignedTicket): NewWinningTicket {
  return {
    ticketHash: bytesToHex(ticketHash(t)),
    recipient: bytesToHex(t.recipient),
    sender: bytesToHex(t.sender),
    faceValue: t.faceValue,
    winProb: t.winProb,
    senderNonce: BigInt(t.senderNonce),
    recipientRandHash: bytesToHex(t.recipientRandHash),
    creationRound: t.creationRound,
    creationRoundBlockHash: bytesToHex(t.creationRoundBlockHash),
    paramsExpirationBlock: t.paramsExpirationBlock,
    sig: bytesToHex(t.sig),
    recipientRand: t.recipientRand,
  };
}
