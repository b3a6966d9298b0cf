import { Injectable } from '@nestjs/common';

/** A ticket as far as in-flight bookkeeping cares: whose, whom it pays, what it may cost its sender. */
export interface HeldTicket {
  ticketHash: string;
  sender: string;
  recipient: string;
  faceValue: bigint;
}

/** A sender's face value in flight: to one recipient, and to all the others. */
export interface Committed {
  own: bigint;
  others: bigint;
}

/**
 * What this process is redeeming right now: tickets claimed by a batch or waiting on their tx,
 * and per sender the face value those tickets may still draw from its deposit and reserve. A
 * sender may have several txs in flight; the batcher only holds a ticket back while the sender's
 * funds cannot cover it on top of what is already in flight (so funds are never counted twice).
 * One Redeemer process is active per signer (the signer lease); tickets other Redeemers put in txs
 * (their senders' deposits are shared across recipients) are read from Postgres and added.
 */
@Injectable()
export class InFlight {
  private readonly holds = new Map<string, readonly HeldTicket[]>();
  private readonly tickets = new Map<string, number>();

  /** Registers (or replaces) the hold of `owner`; synchronous, so a hand-over never leaves a gap. */
  hold(owner: string, tickets: readonly HeldTicket[]): void {
    this.release(owner);
    const unique = [...new Map(tickets.map((t) => [t.ticketHash, t])).values()];
    this.holds.set(owner, unique);
    for (const t of unique) this.tickets.set(t.ticketHash, (this.tickets.get(t.ticketHash) ?? 0) + 1);
  }

  release(owner: string): void {
    const hold = this.holds.get(owner);
    if (!hold) return;
    this.holds.delete(owner);
    for (const t of hold) {
      const n = (this.tickets.get(t.ticketHash) ?? 0) - 1;
      if (n <= 0) this.tickets.delete(t.ticketHash);
      else this.tickets.set(t.ticketHash, n);
    }
  }

  /**
   * Face value of `sender`'s tickets held by owners other than `except` (txs in flight, and
   * batches being built), plus those of `elsewhere` (the sender's tickets in a tx by Postgres)
   * that no owner here holds — another Redeemer's, or the previous holder's of a recipient taken
   * over: what its funds must still cover before anything new is sent, split between the tickets
   * paying `recipient` and the others (the contract pays those from the shared deposit, then from
   * their own recipients' reserve shares, never from this one's). Each ticket counted once.
   */
  committed(
    sender: string,
    recipient: string,
    except?: string,
    elsewhere: readonly HeldTicket[] = [],
  ): Committed {
    const total: Committed = { own: 0n, others: 0n };
    const add = (t: HeldTicket) => {
      if (t.recipient === recipient) total.own += t.faceValue;
      else total.others += t.faceValue;
    };
    for (const t of elsewhere) {
      if (t.sender === sender && !this.tickets.has(t.ticketHash)) add(t);
    }
    for (const [owner, hold] of this.holds) {
      if (owner === except) continue;
      for (const t of hold) if (t.sender === sender) add(t);
    }
    return total;
  }

  ticketBusy(ticketHash: string): boolean {
    return this.tickets.has(ticketHash);
  }

  get ticketCount(): number {
    return this.tickets.size;
  }
}
