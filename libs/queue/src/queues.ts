import type { JobsOptions } from 'bullmq';
import { REVEAL_POLL_MARGIN_BLOCKS } from '#app/ticket';

/** Every BullMQ queue of the system. Names are stable: renaming one orphans its jobs. */
export enum QueueName {
  TICKET_REDEMPTION = 'ticket-redemption',
}

export enum JobName {
  REDEEM_TICKET = 'redeem-ticket',
}

/**
 * A redemption job carries only the ticket hash: the ticket itself lives in Postgres
 * (`winning_ticket`), so a lost queue is rebuilt from the table and a job never holds stale data.
 */
export interface RedeemTicketJob {
  /** 0x-prefixed lowercase hex; also the job id, so a ticket is enqueued at most once. */
  ticketHash: string;
  /** 0x-prefixed lowercase hex, for per-sender grouping without a database read. */
  sender: string;
  /** Runs in a row that threw (RedemptionWorker's back-off); absent when the last one did not. */
  errors?: number;
}

/**
 * L1 blocks past paramsExpirationBlock before recipientRand is revealed for a ticket stored without
 * a reveal block (storedRevealBlock), by default: the default of the Redeemer's
 * REDEEMER_PARAMS_EXPIRY_MARGIN_BLOCKS, and the margin such tickets' first runs are timed for
 * (RedemptionQueue.enqueueStoredAll) where that setting is not known (QueueModule's
 * `paramsExpiryMarginBlocks`). A Redeemer set otherwise still decides alone: a job that runs early
 * waits there.
 */
export const DEFAULT_PARAMS_EXPIRY_MARGIN_BLOCKS = REVEAL_POLL_MARGIN_BLOCKS;

/** QueueModule's `paramsExpiryMarginBlocks`, for RedemptionQueue. */
export const PARAMS_EXPIRY_MARGIN_BLOCKS = Symbol('PARAMS_EXPIRY_MARGIN_BLOCKS');

export interface JobPayloads {
  [JobName.REDEEM_TICKET]: RedeemTicketJob;
}

/**
 * The fallback back-off after a thrown run, for a handler that gives no delay of its own
 * (RedemptionJobHandler.errorDelay; the Redeemer gives one, by its REDEEMER_RETRY_* settings) and
 * for a failure the worker could not record (REDEMPTION_BACKOFF).
 */
const ERROR_BACKOFF_BASE_MS = 2_000;
/** Longest fallback wait: BullMQ's exponential back-off has no ceiling (2^14 × 2 s ≈ 9 h). */
export const ERROR_BACKOFF_MAX_MS = 5 * 60_000;

/**
 * The redemption back-off, one formula for every retry of a ticket: `baseMs` × 2^(n−1) after the
 * n-th failure in a row (n ≤ 1 waits `baseMs`), at most `maxMs`.
 */
export function exponentialBackoffMs(failures: number, baseMs: number, maxMs: number): number {
  const doublings = Math.min(Math.max(failures - 1, 0), 30);
  return Math.min(baseMs * 2 ** doublings, maxMs);
}

/**
 * The fallback wait after the `errors`-th run in a row that threw (see ERROR_BACKOFF_BASE_MS):
 * doubling from 2 s, at most ERROR_BACKOFF_MAX_MS, so a job that failed through a long outage
 * (Postgres, the chain) runs again within minutes of its end, not hours later when its ticket may
 * have expired.
 */
export function redemptionBackoffMs(errors: number): number {
  return exponentialBackoffMs(errors, ERROR_BACKOFF_BASE_MS, ERROR_BACKOFF_MAX_MS);
}

/**
 * The redemption queue's own back-off type, for a run whose failure the worker could not record
 * itself (Redis down meanwhile): BullMQ then counts an attempt and asks the worker's
 * backoffStrategy (REDEMPTION_WORKER_OPTIONS), redemptionBackoffMs of the attempts made, so that
 * these failures, counted over a job's whole life, are capped too.
 */
export const REDEMPTION_BACKOFF = 'redemption';

/**
 * A ticket to make a redemption job for: the job's data, and its creation round. The round is the
 * job's BullMQ priority (redemptionPriority): under a backlog, the tickets that expire first go
 * first, also when a wait (delay) put an older one back in line behind newer ones.
 */
export interface TicketToQueue extends RedeemTicketJob {
  creationRound: bigint;
}

/** BullMQ's lowest priority (its largest value). */
const LOWEST_PRIORITY = 2 ** 21;

/**
 * A redemption job's BullMQ priority: its ticket's creation round (a smaller value runs first),
 * from 1 (0 would be no priority, and those jobs run before every prioritized one) to BullMQ's
 * bound.
 */
export function redemptionPriority(creationRound: bigint): number {
  if (creationRound < 1n) return 1;
  return creationRound >= BigInt(LOWEST_PRIORITY) ? LOWEST_PRIORITY : Number(creationRound);
}

/** BullMQ defaults in one table. Redemption retries for a long time: a ticket is money. */
export const QUEUE_DEFAULTS: Record<QueueName, JobsOptions> = {
  [QueueName.TICKET_REDEMPTION]: {
    attempts: 1_000,
    backoff: { type: REDEMPTION_BACKOFF },
    removeOnComplete: { count: 10_000 },
    removeOnFail: { count: 10_000 },
  },
};

/**
 * BullMQ prefixes keys with `<prefix>:<queue>`; a hash tag keeps one queue's keys in one Redis
 * Cluster slot. Built from the shared REDIS_PREFIX so every key of a deployment shares it.
 */
export function bullPrefix(redisPrefix: string): string {
  return `${redisPrefix}{bull}`;
}
