import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { QueueName, type RedeemTicketJob } from '#app/queue';
import { RedemptionService } from './redemption.service.js';

const TICKET_HASH = /^0x[0-9a-f]{64}$/;

/**
 * The redemption queue's one processor: decode the job, let the service move the ticket, then
 * finish the job (final status), park it until its next check (waits and back-off do not use up
 * attempts), or fail it for good (a job that names no ticket). Unexpected errors are thrown and
 * retried by BullMQ. The worker is started by RedeemerLifecycle once recovery is done.
 *
 * A job held by a process that died (kill -9 while its ticket sat in a batch) is handed to a live
 * worker once its lock lapses: a short lock (renewed every 5 s) and a stalled-job check every 5 s
 * bring it back within ~15 s instead of BullMQ's default ~60 s — short next to a ticket's validity.
 */
@Processor(QueueName.TICKET_REDEMPTION, { autorun: false, lockDuration: 10_000, stalledInterval: 5_000 })
export class RedemptionProcessor extends WorkerHost {
  private readonly logger = new Logger(RedemptionProcessor.name);

  constructor(private readonly redemptions: RedemptionService) {
    super();
  }

  async process(job: Job<RedeemTicketJob>, token?: string): Promise<string> {
    const ticketHash = typeof job.data?.ticketHash === 'string' ? job.data.ticketHash.toLowerCase() : '';
    if (!TICKET_HASH.test(ticketHash)) throw new UnrecoverableError('job has no valid ticketHash');
    const result = await this.redemptions.process(ticketHash);
    switch (result.kind) {
      case 'done':
        return result.status;
      case 'invalid':
        throw new UnrecoverableError(result.reason);
      case 'later':
        await job.moveToDelayed(Date.now() + result.delayMs, token);
        throw new DelayedError(result.code);
    }
  }

  /** Redis trouble (e.g. a job's keys vanished in a flush): logged; the reconciler rebuilds lost jobs. */
  @OnWorkerEvent('error')
  onError(err: Error): void {
    this.logger.warn({ msg: 'redemption worker error', error: err.message });
  }
}
