import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { InjectRecipientRedis } from '../recipient-redis.js';
import { RecipientConfig } from '../recipient.config.js';
import { RecipientError, RecipientErrorCode } from '../recipient.error.js';

const WINDOW_MS = 1_000;

/**
 * Per-sender cap on accepted tickets per second, shared by every replica (Redis, one-second
 * windows). A payment is refused up front once its sender's window is full; only tickets that
 * passed validation count against it, so payments forged in another sender's name (they fail the
 * signature check) cannot use up that sender's budget. Concurrent payments of one sender may
 * overshoot by one payment (check, then count). 0 turns the cap off.
 */
@Injectable()
export class SenderRateLimiter {
  private readonly limit: number;

  constructor(
    config: RecipientConfig,
    @InjectRecipientRedis() private readonly redis: Redis,
  ) {
    this.limit = config.values.RECIPIENT_MAX_TICKETS_PER_SECOND_PER_SENDER;
  }

  /** Throws RATE_LIMITED when `sender` already had its tickets this second. */
  async check(sender: string): Promise<void> {
    if (this.limit === 0) return;
    const used = Number((await this.redis.get(windowKey(sender))) ?? 0);
    if (used >= this.limit) {
      throw new RecipientError(
        RecipientErrorCode.RATE_LIMITED,
        `sender ${sender} sent ${used} tickets this second, at most ${this.limit} are accepted per second`,
      );
    }
  }

  /** Counts `tickets` accepted tickets of `sender` in the current window. */
  async consume(sender: string, tickets: number): Promise<void> {
    if (this.limit === 0 || tickets === 0) return;
    const key = windowKey(sender);
    await this.redis
      .multi()
      .incrby(key, tickets)
      .pexpire(key, 2 * WINDOW_MS)
      .exec();
  }
}

function windowKey(sender: string): string {
  return `recipient:rate:{${sender}}:${Math.floor(Date.now() / WINDOW_MS)}`;
}
