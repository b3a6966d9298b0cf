import type { RedeemTicketJob } from '#app/queue';
import type { RedemptionQueueHandle } from './stores.js';

/** What `makeDueNow` did to the ticket's redemption job. */
export type DueNowAction =
  /** No job existed: added without delay, as the intake does. */
  | 'enqueued'
  /** A delayed job was moved to waiting. */
  | 'promoted'
  /** A finished or failed job was removed and the ticket enqueued again (its row was not final). */
  | 're-enqueued'
  /** Already waiting for a worker. */
  | 'already-due'
  /** A worker holds it right now. */
  | 'in-flight';

/**
 * Makes a ticket's redemption job due now without bypassing the Redeemer: the job (id = ticket
 * hash, as RedemptionQueue.enqueue adds it) is only moved forward in BullMQ, and the Redeemer's
 * worker does the redemption and every status change exactly as for any other job. The same moves
 * as the Redeemer's own `POST /ops/tickets/:hash/redeem`, for when that endpoint is not reachable.
 */
export async function makeDueNow(
  handle: RedemptionQueueHandle,
  ticket: RedeemTicketJob,
): Promise<DueNowAction> {
  // A job can change state between reading and acting (a worker picks it up, a delay expires):
  // look again instead of failing.
  for (let attempt = 0; ; attempt++) {
    const job = await handle.queue.getJob(ticket.ticketHash);
    if (!job) {
      await handle.producer.enqueue(ticket);
      return 'enqueued';
    }
    const state = await job.getState();
    try {
      switch (state) {
        case 'delayed':
          await job.promote();
          return 'promoted';
        case 'waiting':
        case 'prioritized':
        case 'waiting-children':
          return 'already-due';
        case 'active':
          return 'in-flight';
        case 'failed':
        case 'completed':
          await job.remove();
          await handle.producer.enqueue(ticket);
          return 're-enqueued';
        case 'unknown':
          await handle.producer.enqueue(ticket);
          return 'enqueued';
      }
    } catch (err) {
      if (attempt >= 2) throw err;
    }
  }
}
