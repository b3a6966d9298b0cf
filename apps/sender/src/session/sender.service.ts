import { Injectable, Logger } from '@nestjs/common';
import type { ChainHead } from '#app/chain';
import { paymentCodec, paymentHeaderOf, type PaymentMessage } from '#app/proto';
import {
  batchExpirationParams,
  bytesToHex,
  paymentFromTicketBatch,
  pricePerPixel,
  Rational,
  signTicketBatch,
  TicketError,
  TicketErrorCode,
  ticketEV,
  validateTicketParams,
  type PriceInfo,
  type SenderInfo,
  type SenderParamsPolicy,
  type TicketParams,
} from '#app/ticket';
import { SenderAccounts } from '../accounts/sender-accounts.js';
import { SenderChainView } from '../accounts/sender-chain-view.js';
import type { SenderAccount } from '../accounts/keystore-loader.js';
import { ApiClients } from '../auth/api-clients.js';
import type { ApiClient } from '../auth/api-tokens.js';
import { SpendCaps } from '../auth/spend-caps.js';
import { ContactBook } from '../contacts/contact-book.js';
import type { Contact } from '../contacts/contacts.js';
import { SenderMetrics, evWei } from '../metrics/sender.metrics.js';
import { SenderConfig } from '../sender.config.js';
import { SenderError, SenderErrorCode } from '../sender.error.js';
import { AccountRateLimiter } from './account-rate-limiter.js';
import { parseSessionId, sessionId, type SessionKey } from './session-id.js';
import { checkSessionPolicy } from './session-policy.js';
import { SessionStore, sessionTtlMs } from './session.store.js';

export interface StartSessionInput {
  /** Empty when the caller's token is bound to exactly one account. */
  sender: Uint8Array;
  params: TicketParams | undefined;
  expectedPrice: PriceInfo | undefined;
}

export interface StartedSession {
  sessionId: string;
  ev: Rational;
  resumed: boolean;
  nonce: number;
  noncesRemaining: number;
  recipientAlias: string;
}

export interface CreatedBatch {
  /** The Payment as a protobuf message, converted once for both the header and the gRPC response. */
  payment: PaymentMessage;
  /** The `Livepeer-Payment` header value: the same Payment encoded, in base64. */
  paymentHeader: string;
  firstNonce: number;
  lastNonce: number;
  noncesRemaining: number;
  refreshParams: boolean;
  ev: Rational;
}

export interface AccountView {
  address: Uint8Array;
  info: SenderInfo;
}

/** A session's immutable part, decoded once per replica. */
interface SessionParams {
  params: TicketParams;
  price: PriceInfo;
  pricePerPixel: Rational;
  ev: Rational;
  /** `ev` for the metrics (evWei). */
  evWei: number;
  recipientHex: string;
}

/** Decoded sessions kept per replica; params never change under a session id, so a hit is exact. */
const SESSION_CACHE_LIMIT = 10_000;

/**
 * The Sender's rules (§7): sessions over O's params, validated against this node's policy and
 * the chain, and batches of tickets signed with nonces allocated atomically in Redis.
 */
@Injectable()
export class SenderService {
  private readonly logger = new Logger(SenderService.name);
  private readonly policy: SenderParamsPolicy;
  private readonly cache = new Map<string, SessionParams>();

  constructor(
    private readonly config: SenderConfig,
    private readonly accounts: SenderAccounts,
    private readonly clients: ApiClients,
    private readonly contacts: ContactBook,
    private readonly chain: SenderChainView,
    private readonly store: SessionStore,
    private readonly metrics: SenderMetrics,
    private readonly rateLimiter: AccountRateLimiter,
    private readonly spendCaps: SpendCaps,
  ) {
    const v = config.values;
    this.policy = {
      maxEV: Rational.of(v.SENDER_MAX_TICKET_EV),
      maxTotalEV: Rational.of(v.SENDER_MAX_TOTAL_EV),
      depositMultiplier: v.SENDER_DEPOSIT_MULTIPLIER,
    };
  }

  /** Checks O's params for one ticket (as go-livepeer does before use) and opens or resumes the session. */
  async startSession(client: ApiClient, input: StartSessionInput): Promise<StartedSession> {
    return this.openSession(this.accountFor(client, input.sender), input.params, input.expectedPrice);
  }

  /**
   * StartSession for an account the caller has already resolved and authorized. `nonceFloor`
   * (from the remote signer's state) raises the session's counter to at least that nonce, so a
   * session Redis lost never reissues nonces a gateway's state shows were used.
   */
  async openSession(
    account: SenderAccount,
    params: TicketParams | undefined,
    expectedPrice: PriceInfo | undefined,
    opts: { nonceFloor?: number; quietResume?: boolean } = {},
  ): Promise<StartedSession> {
    if (!params) throw new TicketError(TicketErrorCode.PARAMS_MISSING, 'ticketParams is nil');
    const session = this.describe(params, expectedPrice);
    const contact = this.sessionPolicy(session);
    const head = await this.validate(account, params, 1);

    const key: SessionKey = {
      senderHex: account.addressHex,
      recipientRandHashHex: bytesToHex(params.recipientRandHash),
    };
    const ttl = sessionTtlMs(params.expirationBlock, head.l1Block, this.config.values.ETH_L1_BLOCK_SECONDS);
    const outcome = await this.store.start(key, params, session.price, ttl, opts.nonceFloor ?? 0);
    if (outcome.kind === 'conflict') {
      throw new SenderError(
        SenderErrorCode.SESSION_CONFLICT,
        'a session with this recipientRandHash exists for other params or another price',
      );
    }
    const id = sessionId(key);
    this.remember(id, session);
    const nonce = outcome.nonce;
    this.metrics.sessionStarted(account.addressHex, outcome.kind);
    // The remote signer resumes its session on every call: logging each would flood the log.
    if (!(opts.quietResume && outcome.kind === 'resumed'))
      this.logger.debug({
        msg: outcome.kind === 'resumed' ? 'session resumed' : 'session started',
        sender: account.addressHex,
        recipient: session.recipientHex,
        recipientRandHash: key.recipientRandHashHex,
        expirationBlock: params.expirationBlock.toString(),
        nonce,
      });
    return {
      sessionId: id,
      ev: session.ev,
      resumed: outcome.kind === 'resumed',
      nonce,
      noncesRemaining: Math.max(this.config.values.SENDER_NONCE_CAP - nonce, 0),
      recipientAlias: contact?.alias ?? '',
    };
  }

  /**
   * This node's session policy for O's params at this price (allowlist, winProb, the contact's
   * maximum price), as openSession checks it, with nothing read or written: the remote signer
   * refuses on it before it asks its webhook.
   */
  checkPolicy(params: TicketParams, expectedPrice: PriceInfo | undefined): void {
    this.sessionPolicy(this.describe(params, expectedPrice));
  }

  /** checkSessionPolicy for a described session; the recipient's contact, if any. */
  private sessionPolicy(session: SessionParams): Contact | undefined {
    const contact = this.contacts.find(session.recipientHex);
    checkSessionPolicy({
      params: session.params,
      recipientHex: session.recipientHex,
      pricePerPixel: session.pricePerPixel,
      contact,
      allowlist: this.contacts.allowlist,
    });
    return contact;
  }

  /**
   * go-livepeer's ValidateTicketParams: O's params checked for one ticket against the last seen
   * head and the account's funds, nothing written or reserved. Throws what openSession's check
   * throws (PARAMS_EXPIRED: fetch fresh params); returns the EV of one ticket.
   */
  async checkParams(account: SenderAccount, params: TicketParams): Promise<Rational> {
    await this.validate(account, params, 1);
    return ticketEV(params.faceValue, params.winProb);
  }

  /**
   * Validates the session's params for `size` tickets, takes them from the account's per-second
   * budget, reserves `size` consecutive nonces (one atomic Redis step shared by every replica),
   * signs the tickets and assembles the Payment. A batch refused at any step leaves the budget
   * and the nonce counter as they were.
   */
  async createTicketBatch(client: ApiClient, rawSessionId: unknown, size: number): Promise<CreatedBatch> {
    const started = process.hrtime.bigint();
    const { key, account } = this.sessionKeyFor(client, rawSessionId);
    const {
      SENDER_MAX_BATCH_SIZE: maxSize,
      SENDER_NONCE_CAP: cap,
      SENDER_NONCE_REFRESH_AT: refreshAt,
    } = this.config.values;
    if (!Number.isSafeInteger(size) || size < 1 || size > maxSize) {
      throw new SenderError(SenderErrorCode.INVALID_REQUEST, `size must be between 1 and ${maxSize}`);
    }
    const session = await this.sessionParams(key);
    const head = await this.validate(account, session.params, size);
    const expirationParams = batchExpirationParams(session.params, head.rounds);

    // The last checks before anything is written, so a batch they refuse has changed nothing.
    const allowance = await this.rateLimiter.take(account.addressHex, size);
    const n = BigInt(size);
    const charge = await this.spendCaps
      .charge(client, session.ev.mul(Rational.of(n)), session.params.faceValue * n)
      .catch(async (err: unknown) => {
        await allowance.release().catch(() => undefined);
        throw err;
      });
    const lastNonce = await this.allocate(key, size, cap).catch(async (err: unknown) => {
      // No nonces, no tickets: give the tickets back to the budget and the cap. Should that fail
      // as well, the window over-counts for a while; the caller still gets the original error.
      await allowance.release().catch(() => undefined);
      await charge.refund().catch(() => undefined);
      throw err;
    });
    const firstNonce = lastNonce - size + 1;
    const nonces = Array.from({ length: size }, (_, i) => firstNonce + i);

    // A signature failure after the allocation leaves a gap in the session's nonces, which the
    // recipient accepts (it refuses reuse, not gaps); the nonces are never handed out again.
    const batch = await signTicketBatch(
      { params: session.params, expirationParams, pricePerPixel: session.pricePerPixel, nonces },
      account.signer,
    );
    const payment = paymentCodec.toMessage(paymentFromTicketBatch(batch, session.price));
    const paymentHeader = paymentHeaderOf(payment);

    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.metrics.batchSent(account.addressHex, session.recipientHex, size, session.evWei, seconds);
    return {
      payment,
      paymentHeader,
      firstNonce,
      lastNonce,
      noncesRemaining: Math.max(cap - lastNonce, 0),
      refreshParams: lastNonce >= refreshAt,
      ev: session.ev.mul(Rational.of(BigInt(size))),
    };
  }

  async ev(client: ApiClient, rawSessionId: unknown): Promise<Rational> {
    const { key } = this.sessionKeyFor(client, rawSessionId);
    return (await this.sessionParams(key)).ev;
  }

  async endSession(client: ApiClient, rawSessionId: unknown): Promise<boolean> {
    const { key, account } = this.sessionKeyFor(client, rawSessionId);
    const ended = await this.store.end(key);
    this.cache.delete(sessionId(key));
    if (ended) {
      this.metrics.sessionEnded(account.addressHex);
      this.logger.debug({
        msg: 'session ended',
        sender: key.senderHex,
        recipientRandHash: key.recipientRandHashHex,
      });
    }
    return ended;
  }

  /** The caller's accounts with their on-chain deposit and reserve, read once per head block. */
  async senders(client: ApiClient): Promise<AccountView[]> {
    const mine = this.accounts.list().filter((a) => client.senders.has(a.addressHex));
    return Promise.all(
      mine.map(async (a) => ({ address: a.address, info: await this.chain.senderInfo(a.addressHex) })),
    );
  }

  /**
   * go-livepeer's validateTicketParams (§7.3) against the last seen head and the sender's
   * on-chain info. Returns the head it checked against.
   */
  private async validate(
    account: SenderAccount,
    params: TicketParams,
    numTickets: number,
  ): Promise<ChainHead> {
    const head = this.chain.head();
    const senderInfo = await this.chain.senderInfo(account.addressHex);
    validateTicketParams(
      params,
      numTickets,
      { lastSeenL1Block: head.l1Block, lastInitializedRound: head.rounds.lastInitializedRound, senderInfo },
      this.policy,
    );
    return head;
  }

  /** Reserves nonces `last − size + 1 … last` of the session and returns `last`. */
  private async allocate(key: SessionKey, size: number, cap: number): Promise<number> {
    const allocation = await this.store.allocate(key, size, cap);
    if (allocation.kind === 'missing') throw sessionNotFound();
    if (allocation.kind === 'cap') {
      throw new SenderError(
        SenderErrorCode.NONCE_CAP_REACHED,
        `session has issued ${allocation.nonce} of ${cap} nonces, ${size} more do not fit: refresh the params`,
      );
    }
    return allocation.last;
  }

  /**
   * The account a request names (20 bytes), or the caller's only one (empty), checked against
   * the caller's token.
   */
  accountFor(client: ApiClient, sender: Uint8Array): SenderAccount {
    let senderHex: string;
    if (sender.length === 0) {
      const usable = [...client.senders].filter((a) => this.accounts.has(a));
      if (usable.length !== 1) {
        throw new SenderError(
          SenderErrorCode.INVALID_REQUEST,
          'sender is required: this API token may use several accounts (or none is loaded)',
        );
      }
      senderHex = usable[0];
    } else if (sender.length === 20) {
      senderHex = bytesToHex(sender);
    } else {
      throw new SenderError(SenderErrorCode.INVALID_REQUEST, 'sender must be 20 bytes');
    }
    this.clients.authorize(client, senderHex);
    const account = this.accounts.get(senderHex);
    // Tokens are checked against the loaded accounts at boot; this only fires if that changes.
    if (!account)
      throw new SenderError(SenderErrorCode.ACCOUNT_NOT_PERMITTED, `sender ${senderHex} is not served here`);
    return account;
  }

  private sessionKeyFor(
    client: ApiClient,
    rawSessionId: unknown,
  ): { key: SessionKey; account: SenderAccount } {
    const key = parseSessionId(rawSessionId);
    this.clients.authorize(client, key.senderHex);
    const account = this.accounts.get(key.senderHex);
    if (!account)
      throw new SenderError(
        SenderErrorCode.ACCOUNT_NOT_PERMITTED,
        `sender ${key.senderHex} is not served here`,
      );
    return { key, account };
  }

  private async sessionParams(key: SessionKey): Promise<SessionParams> {
    const id = sessionId(key);
    const cached = this.cache.get(id);
    if (cached) return cached;
    const stored = await this.store.load(key);
    if (!stored) throw sessionNotFound();
    const session = this.describe(stored.params, stored.price);
    this.remember(id, session);
    return session;
  }

  /** Derived, immutable facts of a session; throws INVALID_PRICE for a missing or unusable price. */
  private describe(params: TicketParams, price: PriceInfo | undefined): SessionParams {
    const perPixel = pricePerPixel(price);
    const ev = ticketEV(params.faceValue, params.winProb);
    return {
      params,
      price: price!,
      pricePerPixel: perPixel,
      ev,
      evWei: evWei(ev),
      recipientHex: bytesToHex(params.recipient),
    };
  }

  private remember(id: string, session: SessionParams): void {
    if (this.cache.size >= SESSION_CACHE_LIMIT) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(id, session);
  }
}

function sessionNotFound(): SenderError {
  return new SenderError(
    SenderErrorCode.SESSION_NOT_FOUND,
    'no live session with this id (never started, ended, or its params expired)',
  );
}
