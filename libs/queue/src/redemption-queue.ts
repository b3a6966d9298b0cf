import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { JobName, QUEUE_DEFAULTS, QueueName, type RedeemTicketJob } from './queues.js';

/** Producer side of the redemption queue: enqueue a winning ticket already stored in Postgres. */
@Injectable()
export class RedemptionQueue {
  constructor(@InjectQueue(QueueName.TICKET_REDEMPTION) private readonly queue: Queue<RedeemTicketJob>) {}

  /** Idempotent: the job id is the ticket hash, so enqueuing the same ticket twice adds one job. */
  async enqueue(job: RedeemTicketJob, delayMs = 0): Promise<void> {
    await this.queue.add(JobName.REDEEM_TICKET, job, {
      ...QUEUE_DEFAULTS[QueueName.TICKET_REDEMPTION],
      jobId: job.ticketHash,
      delay: delayMs,
    });
  }

  async depth(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
  }
}
