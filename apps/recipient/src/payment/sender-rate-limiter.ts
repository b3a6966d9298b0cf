import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisRateWindow } from '#app/common';
import { InjectRecipientRedis } from '../recipient-redis.js';
import { RecipientConfig } from '../recipient.config.js';
import { RecipientError, RecipientErrorCode } from '../recipient.error.js';

/**
 * Per-sender cap on accepted tickets per second, shared by every replica (Redis, one-second
 * windows). A payment is refused up front once its sender's window is full; only tickets that
 * passed validation count against it, so payments forged in another sender's name (they fail the
 * signature check) cannot use up that sender's budget. Concurrent payments of one sender may
 * overshoot by one payment (check, then count). 0 turns the cap off.
 */
@Injectable()
export class SenderRateLimiter {
  private readonly window: RedisRateWindow;

  constructor(config: RecipientConfig, @InjectRecipientRedis() redis: Redis) {
    this.window = new RedisRateWindow(redis, {
      namespace: 'recipient:rate',
      limit: config.values.RECIPIENT_MAX_TICKETS_PER_SECOND_PER_SENDER,
    });
  }

  /** False when there is no cap (nothing is counted). */
  get enabled(): boolean {
    return this.window.enabled;
  }

  /** Throws RATE_LIMITED when `sender` already had its tickets this second. */
  async check(sender: string): Promise<void> {
    if (!this.window.enabled) return;
    const { used, retryAfterMs } = await this.window.usage(sender);
    if (used >= this.window.limit) {
      throw new RecipientError(
        RecipientErrorCode.RATE_LIMITED,
        `sender ${sender} sent ${used} tickets this second, at most ${this.window.limit} are accepted ` +
          `per second: retry in ${retryAfterMs} ms`,
      );
    }
  }

  /** Counts `tickets` accepted tickets of `sender` in the current window. */
  async consume(sender: string, tickets: number): Promise<void> {
    await this.window.add(sender, tickets);
  }
}
