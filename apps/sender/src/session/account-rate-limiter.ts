import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { InjectRedis, RedisRateWindow } from '#app/common';
import { SenderConfig } from '../sender.config.js';
import { SenderError, SenderErrorCode } from '../sender.error.js';

/** Tickets counted for a batch; `release` returns them when the batch was not signed after all. */
export interface TicketAllowance {
  release(): Promise<void>;
}

/**
 * Per-account cap on signed tickets per second, shared by every Sender replica (Redis, one-second
 * windows). A batch takes its tickets from the window in one atomic step or is refused whole, so
 * concurrent batches never pass the cap together and a refused batch counts nothing. 0 turns the
 * cap off.
 */
@Injectable()
export class AccountRateLimiter {
  private readonly window: RedisRateWindow;

  constructor(config: SenderConfig, @InjectRedis() redis: Redis) {
    this.window = new RedisRateWindow(redis, {
      namespace: 'sender:rate',
      limit: config.values.SENDER_MAX_TICKETS_PER_SECOND_PER_SENDER,
    });
  }

  /** Counts `tickets` for `senderHex` this second, or throws RATE_LIMITED having counted nothing. */
  async take(senderHex: string, tickets: number): Promise<TicketAllowance> {
    const outcome = await this.window.take(senderHex, tickets);
    if (outcome.taken) return outcome;
    const limit = this.window.limit;
    throw new SenderError(
      SenderErrorCode.RATE_LIMITED,
      `sender ${senderHex} may have ${limit} tickets signed per second and has had ${outcome.used} ` +
        `this second, so a batch of ${tickets} does not fit: retry in ${outcome.retryAfterMs} ms`,
    );
  }
}
