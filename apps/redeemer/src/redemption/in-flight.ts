import { Injectable } from '@nestjs/common';

interface Hold {
  senders: readonly string[];
  tickets: readonly string[];
}

/**
 * What this process is redeeming right now: tickets claimed by a batch or waiting on their tx, and
 * the senders those belong to. A sender with a hold gets no second tx until the first one settles,
 * so its funds are never counted twice (tickets of one sender go one tx at a time). One Redeemer
 * process is active per signer (the signer lease), so in-process knowledge is complete.
 */
@Injectable()
export class InFlight {
  private readonly holds = new Map<string, Hold>();
  private readonly senders = new Map<string, number>();
  private readonly tickets = new Map<string, number>();

  /** Registers (or replaces) the hold of `owner`; synchronous, so a hand-over never leaves a gap. */
  hold(owner: string, senders: readonly string[], tickets: readonly string[]): void {
    this.release(owner);
    const hold = { senders: [...new Set(senders)], tickets: [...new Set(tickets)] };
    this.holds.set(owner, hold);
    for (const s of hold.senders) this.senders.set(s, (this.senders.get(s) ?? 0) + 1);
    for (const t of hold.tickets) this.tickets.set(t, (this.tickets.get(t) ?? 0) + 1);
  }

  release(owner: string): void {
    const hold = this.holds.get(owner);
    if (!hold) return;
    this.holds.delete(owner);
    for (const s of hold.senders) decrement(this.senders, s);
    for (const t of hold.tickets) decrement(this.tickets, t);
  }

  senderBusy(sender: string): boolean {
    return this.senders.has(sender);
  }

  ticketBusy(ticketHash: string): boolean {
    return this.tickets.has(ticketHash);
  }

  get ticketCount(): number {
    return this.tickets.size;
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 0) - 1;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}
