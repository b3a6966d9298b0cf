import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ChainFacts, type ChainHead } from '#app/chain';
import { AppError } from '#app/common';
import { WinningTicketIntake, type IntakeResult } from '#app/queue';
import {
  Rational,
  SenderMonitor,
  TicketError,
  TicketErrorCode,
  NonceOutcome,
  RecoveryHelper,
  ValidationPool,
  bytesToHex,
  packTicketBatch,
  parseAddress,
  pricePerPixel,
  receiveTicketBatch,
  recoverInThread,
  selectCryptoBackend,
  ticketBatchFromPayment,
  ticketEV,
  verifyPackedBatches,
  type BatchVerifier,
  type Payment,
  type ReceivedTicket,
  type TicketBatch,
  type ValidTickets,
} from '#app/ticket';
import { Balances } from '../balance/balances.service.js';
import { currentHead } from '../chain-head.js';
import { SenderRateLimiter } from './sender-rate-limiter.js';
import { SLICED_MIN_TICKETS, SlicedVerifier } from './sliced-verifier.js';
import { TurnVerifier } from './turn-verifier.js';
import { PhaseClock, RecipientMetrics } from '../metrics/recipient.metrics.js';
import { RedisNonceLedger, priceField, priceMismatch, type RideAlong } from '../nonce/redis-nonce-ledger.js';
import { RecipientConfig } from '../recipient.config.js';
import { RecipientError, RecipientErrorCode } from '../recipient.error.js';
import { RecipientSecrets } from '../secret/recipient-secrets.service.js';

export interface TicketOutcome {
  senderNonce: number;
  ticketHash: Uint8Array;
  won: boolean;
  /** Credited, and stored for redemption when won. */
  accepted: boolean;
  /** Why it was not accepted. */
  error?: TicketError;
}

export interface PaymentOutcome {
  tickets: TicketOutcome[];
  credited: Rational;
  /** The (sender, job) balance after the credit; absent when Redis could not tell it after the payment was recorded. */
  balance?: Rational;
  acceptedCount: number;
  winningCount: number;
}

/** One payment on its way through `receive`. */
interface PaymentContext {
  batch: TicketBatch;
  sender: string;
  jobId: string;
  head: ChainHead;
  clock: PhaseClock;
  /** EV of one of its tickets. */
  ev: Rational;
  /** Its credit, offered to the nonce script. */
  ride: RideAlong;
  /** Hashes of the winners this payment stored (not stored before by another). */
  inserted: string[];
}

/** Refusals that hold for good: no retry of the payment records these nonces. */
const PERMANENT_REFUSALS = new Set<string>([
  RecipientErrorCode.PARAMS_UNKNOWN,
  RecipientErrorCode.PRICE_MISMATCH,
]);

/** The pool splits batches into chunks of at least 64 tickets: this many per thread starts them all. */
const WARM_UP_TICKETS_PER_THREAD = 64;

/**
 * go-livepeer's `ProcessPayment` (PROTOCOL.md §11.2) over the ticket library's
 * `receiveTicketBatch`. Checks run in go-livepeer's order: recipient, non-zero sender,
 * recipientRand commitment, signature (per ticket), then params expiry, the price the params were
 * issued for, the sender (SenderMonitor), and the shared nonce ledger. Failures before the nonces
 * refuse the whole payment and change nothing.
 *
 * Crash safety: a payment is applied in steps that each leave it whole or retryable.
 * (1) Its winners are committed to Postgres (idempotent by ticket hash) before anything is
 * recorded, after a read-only check of their nonces and price, so that a refused winner is not
 * stored. (2) One Redis script records its new nonces and credits them, all or nothing: to the
 * (sender, job) balance by compare-and-set when every nonce is new and the balance holds the value
 * this process knows (read first when unknown, e.g. after a restart), else to the balance's pending
 * credit (EV → ticket count), which the next update of the balance moves into it atomically (right
 * after, here, as is one a crash left there when the script reports it; reads add it meanwhile).
 * A crash before (2) leaves nothing recorded: the sender's retry applies the payment, its winners
 * not stored twice. After (2) the payment is whole (a retry is a replay). (3) The rate window is counted last: a crash before it only undercounts. A payment
 * refused for good after (1) (params gone, wrong price, a winner over the nonce cap in a race) takes
 * back the rows it inserted itself, unless a redemption already claimed them.
 *
 * Deliberate differences from go-livepeer: each valid ticket is credited even after an invalid
 * one (no sticky error, §14.2), and an expired or over-the-cap ticket is neither credited nor
 * queued (§14.3). A replayed winner (nonce seen) is offered to the intake again, as go-livepeer
 * queues it: storage is idempotent by ticket hash, and a winner whose nonce was recorded but never
 * stored (by a version before this order) is stored then.
 */
@Injectable()
export class PaymentService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PaymentService.name);
  private readonly recipient: Uint8Array;
  /** Shares the main thread's signature recoveries with a second core, when there is one. */
  private readonly helper?: RecoveryHelper;
  private readonly turn: TurnVerifier;
  private readonly sliced?: SlicedVerifier;
  private readonly pool?: ValidationPool;

  constructor(
    private readonly config: RecipientConfig,
    private readonly chain: ChainFacts,
    private readonly senderMonitor: SenderMonitor,
    private readonly secrets: RecipientSecrets,
    private readonly ledger: RedisNonceLedger,
    private readonly balances: Balances,
    private readonly intake: WinningTicketIntake,
    private readonly metrics: RecipientMetrics,
    private readonly rateLimiter: SenderRateLimiter,
  ) {
    this.recipient = parseAddress(config.values.RECIPIENT_ADDRESS);
    if (config.values.RECIPIENT_RECOVERY_HELPER && availableParallelism() > 1) {
      const helper = new RecoveryHelper();
      metrics.watchRecoveryHelper(() => helper.counts);
      this.helper = helper;
    }
    const recover = this.helper?.recover ?? recoverInThread(selectCryptoBackend());
    this.turn = new TurnVerifier((batches) => verifyPackedBatches(batches, recover));
    const sliceMs = config.values.RECIPIENT_VERIFY_SLICE_MS;
    if (sliceMs > 0)
      this.sliced = new SlicedVerifier((batch) => verifyPackedBatches([batch], recover)[0], sliceMs);
    const threads = config.values.RECIPIENT_VALIDATION_THREADS;
    if (threads > 0) this.pool = new ValidationPool({ size: threads });
  }

  /** Starts the worker threads now rather than under the first large payment (a thread takes a while to boot). */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.pool) return;
    const blank = new Uint8Array(32);
    const template = {
      recipient: this.recipient,
      sender: this.recipient,
      faceValue: 0n,
      winProb: 0n,
      recipientRandHash: blank,
      creationRound: 0n,
      creationRoundBlockHash: blank,
    };
    const tickets = Array.from({ length: this.pool.threads * WARM_UP_TICKETS_PER_THREAD }, (_, i) => ({
      senderNonce: i,
      sig: new Uint8Array(0),
    }));
    await this.pool.verify(packTicketBatch(template, 0n, tickets));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.pool?.close(), this.helper?.close()]);
  }

  async process(payment: Payment, jobId: string): Promise<PaymentOutcome> {
    const timer = performance.now();
    try {
      return await this.receive(payment, jobId);
    } catch (err) {
      this.metrics.errors.inc({ code: err instanceof AppError ? (err as AppError).code : 'INTERNAL' });
      throw err;
    } finally {
      this.metrics.validationSeconds.observe((performance.now() - timer) / 1000);
    }
  }

  private async receive(payment: Payment, jobId: string): Promise<PaymentOutcome> {
    if (!payment.sender) {
      throw new TicketError(TicketErrorCode.MISSING_SENDER, 'Could not find Sender for payment');
    }
    const sender = bytesToHex(payment.sender);
    const batch = ticketBatchFromPayment(payment);
    if (!batch) {
      // Only the price is announced; it must still be a valid price.
      pricePerPixel(payment.expectedPrice);
      return this.outcome([], Rational.ZERO, await this.balances.balance(sender, jobId));
    }
    const max = this.config.values.RECIPIENT_MAX_TICKETS_PER_PAYMENT;
    if (batch.senderParams.length > max) {
      throw new RecipientError(
        RecipientErrorCode.TOO_MANY_TICKETS,
        `payment has ${batch.senderParams.length} tickets, at most ${max} are accepted`,
      );
    }
    const clock = new PhaseClock(this.metrics.paymentPhaseSeconds);
    await this.rateLimiter.check(sender);
    clock.lap('rate');

    const head = currentHead(this.chain, this.config.headLimits());
    const ev = ticketEV(batch.params.faceValue, batch.params.winProb);
    const context: PaymentContext = { batch, sender, jobId, head, clock, ev, ride: {}, inserted: [] };
    let received: ReceivedTicket[];
    let balance: Rational | undefined;
    try {
      try {
        received = await this.validate(context);
      } catch (err) {
        // A commitment failure is thrown before anything is recorded: validating once more with
        // the secret the params record names (read only now, on a miss: another replica issued
        // them with a secret retired, or rotated in, since) is safe.
        const commitment = err instanceof TicketError && err.code === TicketErrorCode.INVALID_RECIPIENT_RAND;
        if (!commitment) throw err;
        const issuer = await this.ledger.issuerOf(sender, bytesToHex(batch.params.recipientRandHash));
        const secret = await this.secrets.secretAfterMiss(batch, issuer);
        if (!secret) throw err;
        received = await this.validate(context, secret);
      }
    } catch (err) {
      // Refused for good (no retry can record these nonces): the winners it stored go too.
      if (err instanceof RecipientError && PERMANENT_REFUSALS.has(err.code))
        await this.withdraw(context.inserted);
      throw err;
    } finally {
      clock.lap('record');
      const { rider, settled } = context.ride;
      if (rider)
        balance = await this.afterRecording(() => this.balances.settle(rider, settled ?? { kind: 'none' }));
    }
    clock.lap('settle');
    // A winner stored here whose nonce went over the cap meanwhile (a race with another payment)
    // can never be recorded: take it back. One whose nonce was seen stays (that payment's winner).
    const capped = new Set(
      received
        .filter((t) => t.won && t.error?.code === TicketErrorCode.TOO_MANY_NONCES)
        .map((t) => bytesToHex(t.ticketHash)),
    );
    if (capped.size > 0) await this.withdraw(context.inserted.filter((hash) => capped.has(hash)));

    const accepted = received.filter((t) => !t.error);
    const credited = ev.mul(Rational.of(BigInt(accepted.length)));
    // A separate step: a crash before it only leaves these tickets uncounted in this second's window.
    await this.afterRecording(() => this.rateLimiter.consume(sender, accepted.length));
    balance ??= await this.afterRecording(() => this.balances.balance(sender, jobId));
    clock.lap('credit');
    this.record(sender, batch, received, accepted, credited);
    return this.outcome(received, credited, balance);
  }

  /**
   * A step after the nonce script answered, when the payment is recorded (or refused) for good:
   * its failure (Redis gone meanwhile) is logged, not thrown, else the caller would take a
   * recorded payment for a refused one and its retry would be answered as a replay. What it leaves
   * undone is done later: a pending credit moves with the balance's next update (reads count it
   * meanwhile), an uncounted rate window only lets this second's tickets through, and a balance
   * left unread is answered absent.
   */
  private async afterRecording<T>(step: () => Promise<T>): Promise<T | undefined> {
    try {
      return await step();
    } catch (err) {
      this.logger.warn({
        msg: 'a step after the nonce script failed; left to the next update of the balance',
        error: (err as Error).message,
      });
      return undefined;
    }
  }

  /** Takes back winners this payment stored; a failure is logged (the rows stay, which loses nothing). */
  private async withdraw(hashes: readonly string[]): Promise<void> {
    if (hashes.length === 0) return;
    try {
      const removed = await this.intake.withdraw(hashes);
      for (const ticketHash of removed)
        this.logger.debug({ msg: 'winning ticket of a refused payment removed', ticketHash });
    } catch (err) {
      this.logger.warn({
        msg: 'winning tickets of a refused payment not removed',
        error: (err as Error).message,
      });
    }
  }

  /** Validates and records the payment with `secret` (by default `RecipientSecrets.secretFor`'s pick). */
  private validate(payment: PaymentContext, secret?: Uint8Array): Promise<ReceivedTicket[]> {
    const { batch, sender, jobId, head, clock, ev, ride } = payment;
    return receiveTicketBatch(
      batch,
      {
        recipient: this.recipient,
        secret: secret ?? this.secrets.secretFor(batch),
        lastSeenL1Block: head.l1Block,
        lastInitializedRound: head.rounds.lastInitializedRound,
        // No senderInfo: the SenderMonitor validates the sender in beforeRecording, at its place
        // in our order (after the recipient, commitment and signature checks).
      },
      {
        ledger: this.ledger.forPayment(sender, batch.pricePerPixel, ride),
        verify: this.verifierFor(batch),
        // A payment on expired params is refused whole, nothing recorded (§14.3).
        expiredParams: 'refuse',
        beforeRecording: async (valid) => {
          clock.lap('verify');
          await this.beforeRecording(batch, sender);
          clock.lap('checks');
          if (valid.winners.length > 0) {
            payment.inserted = await this.storeWinners(batch, sender, valid);
            clock.lap('store');
          }
          // The credit rides in the script that records the nonces: both or neither.
          ride.rider ??= await this.balances.rider(sender, jobId, ev, valid.count);
          clock.lap('rider');
        },
      },
    );
  }

  /**
   * Validation steps 6–7: the issued price, the sender (params expiry, step 5, is the library's:
   * `expiredParams: 'refuse'`). The price is checked by the nonce ledger's script, in the round
   * trip that records the nonces (`forPrice`); only when the sender is refused is it read here
   * first, so that a wrong price is still reported before it.
   */
  private async beforeRecording(batch: TicketBatch, sender: string): Promise<void> {
    try {
      await this.senderMonitor.validateSender(sender);
    } catch (err) {
      const issued = await this.ledger.issuedPrice(sender, bytesToHex(batch.params.recipientRandHash));
      const expected = priceField(batch.pricePerPixel);
      if (issued !== expected) throw priceMismatch(expected, issued);
      throw err;
    }
  }

  /**
   * Commits a payment's winners to Postgres (then the queue) before their nonces are recorded, so
   * that a crash at any point leaves no recorded winner unstored: the retry of a payment whose
   * script never ran stores nothing twice (by ticket hash). The nonces are checked first without
   * recording them (`peek`): a payment refused for its price or params stores nothing, nor does a
   * winner over the nonce cap; a replayed winner (nonce seen) is offered again, as go-livepeer
   * queues it (§11.2), which also stores one recorded before a crash. When Postgres fails the
   * payment is refused with DATABASE_UNAVAILABLE, nothing recorded. Returns the hashes this call
   * stored.
   */
  private async storeWinners(batch: TicketBatch, sender: string, valid: ValidTickets): Promise<string[]> {
    const outcomes = await this.ledger.peek(
      sender,
      bytesToHex(batch.params.recipientRandHash),
      priceField(batch.pricePerPixel),
      valid.nonces,
    );
    const storable = new Set<number>();
    valid.nonces.forEach((nonce, i) => {
      if (outcomes[i] !== NonceOutcome.TOO_MANY) storable.add(nonce);
    });
    const winners = valid.winners.filter((t) => storable.has(t.senderNonce));
    let results: IntakeResult[];
    try {
      results = await this.intake.acceptAll(winners);
    } catch (cause) {
      this.logger.warn({
        msg: 'winning tickets not stored; payment refused',
        error: (cause as Error).message,
      });
      throw new RecipientError(
        RecipientErrorCode.DATABASE_UNAVAILABLE,
        'winning tickets cannot be stored right now; nothing was credited: retry the payment',
        { cause },
      );
    }
    const inserted = results.filter((r) => r.stored).map((r) => r.ticketHash);
    for (const ticketHash of inserted) this.logger.debug({ msg: 'winning ticket stored', ticketHash });
    return inserted;
  }

  private verifierFor(batch: TicketBatch): BatchVerifier {
    const tickets = batch.senderParams.length;
    if (this.pool && tickets >= this.config.values.RECIPIENT_POOL_MIN_TICKETS) return this.pool.verifier;
    return this.sliced && tickets >= SLICED_MIN_TICKETS ? this.sliced.verify : this.turn.verify;
  }

  private record(
    sender: string,
    batch: TicketBatch,
    received: readonly ReceivedTicket[],
    accepted: readonly ReceivedTicket[],
    credited: Rational,
  ): void {
    for (const t of received) if (t.error) this.metrics.errors.inc({ code: t.error.code });
    // Counted under the sender's name only once one of its signatures checked out: payments forged
    // in made-up names would otherwise open series each (their refusals count by error code).
    if (received.every((t) => t.error?.code === TicketErrorCode.INVALID_SIGNATURE)) return;
    const won = accepted.filter((t) => t.won).length;
    this.metrics.ticketsReceived.inc({ sender }, received.length);
    if (won > 0) this.metrics.faceValueWon.inc({ sender }, Number(batch.params.faceValue) * won);
    this.metrics.shared.received(sender, accepted.length, RecipientMetrics.approx(credited), won);
  }

  private outcome(
    received: readonly ReceivedTicket[],
    credited: Rational,
    balance: Rational | undefined,
  ): PaymentOutcome {
    const tickets = received.map((t): TicketOutcome => ({
      senderNonce: t.senderNonce,
      ticketHash: t.ticketHash,
      won: t.won,
      accepted: !t.error,
      error: t.error,
    }));
    return {
      tickets,
      credited,
      balance,
      acceptedCount: tickets.filter((t) => t.accepted).length,
      winningCount: tickets.filter((t) => t.accepted && t.won).length,
    };
  }
}
