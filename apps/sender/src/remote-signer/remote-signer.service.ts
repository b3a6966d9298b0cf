import { randomBytes } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import {
  assertWellFormedMessage,
  orchestratorCapabilityPricesCodec,
  orchestratorInfoCodec,
  segDataCodec,
  type OrchestratorInfo,
} from '#app/proto';
import {
  balanceAfter,
  billableUnits,
  byocCapabilityName,
  byocPrice,
  bytesToHex,
  decodeRemoteState,
  EMPTY_SEGMENT_HASH,
  encodeRemoteState,
  equalBytes,
  exceededCeiling,
  fitBytes,
  flattenByocJob,
  keccak256,
  legacyByocJobPayload,
  legacyByocPayloadFault,
  lockUsageQuote,
  MAX_IN_PIXELS,
  orchestratorInfoPayload,
  parseMaxPrice,
  parseRemotePaymentType,
  Rational,
  remoteFee,
  remoteStateJson,
  segmentFlatten,
  stateBalanceText,
  TicketError,
  TicketErrorCode,
  ticketsNeeded,
  toChecksumAddress,
  unitPrice,
  usageFee,
  usageUnits,
  type PersonalRecover,
  type PriceCeiling,
  type PriceInfo,
  type RemotePaymentState,
  type RemotePaymentType,
  type TicketParams,
  type UsageUnits,
} from '#app/ticket';
import { SenderError, SenderErrorCode } from '../sender.error.js';
import { SenderConfig } from '../sender.config.js';
import { AccountRateLimiter } from '../session/account-rate-limiter.js';
import { SenderService } from '../session/sender.service.js';
import { AccountSignatures } from './account-signatures.js';
import type { ByocJobSignRequest } from './byoc-job-request.js';
import { capabilitiesMaxPrice, type CapabilityMaxPrices } from './capability-max-prices.js';
import type { LivePaymentRequest } from './live-payment-request.js';
import type { RemoteCaller } from './remote-callers.js';
import {
  invalidRequest,
  ORCHESTRATOR_URL_HEADER,
  RemoteSignerError,
  RemoteSignerErrorCode,
} from './remote-signer.error.js';
import { SignerWebhook, type WebhookVerdict } from './signer-webhook.js';
import { StateSeal } from './state-seal.js';

/** The JSON answer of `/generate-live-payment` (base64 bytes, as Go encodes `[]byte`). */
export interface LivePaymentResponse {
  /** Empty when an attested usage call needed no tickets. */
  payment: string;
  /** Left out when empty (go-livepeer `omitempty`): an attested usage call without tickets. */
  segCreds?: string;
  state: { State: string; Sig: string };
}

/** The JSON answer of `/sign-byoc-job`, formatted as go-livepeer formats it. */
export interface ByocJobSignature {
  /** EIP-55 address of the signing account. */
  sender: string;
  /** `0x` + 130 hex digits: r ‖ s ‖ v, v ∈ {27, 28}. */
  signature: string;
}

/** The request header a gateway may carry the caller's identity in (go-livepeer). */
export const AUTH_ID_HEADER = 'signer-auth-id';
/** go-livepeer refreshes the auth token in the last 10 % of its 30-minute life. */
const AUTH_TOKEN_REFRESH_SECONDS = 180n;

/**
 * go-livepeer's remote signer on top of the Sender's sessions, its checks in go-livepeer's order
 * (docs/remote-signer.md §3.3): request and state, refresh (480), job type and units, price
 * ceilings (481), tickets needed (482), this node's recipient policy (403, 481), whether the new
 * balance fits the state (400), then authorization (webhook), and only then the session, nonces
 * (Redis, shared by replicas) and signatures through the same batch path as the gRPC API.
 */
@Injectable()
export class RemoteSignerService {
  private readonly logger = new Logger(RemoteSignerService.name);
  private readonly maxTickets: bigint;
  private readonly maxPrice: Rational | undefined;
  private readonly capabilityMaxPrices: CapabilityMaxPrices;
  /** Who signed a usage quote or attestation (go-livepeer `VerifySig`). */
  private readonly recover: PersonalRecover;

  constructor(
    config: SenderConfig,
    private readonly sender: SenderService,
    private readonly signatures: AccountSignatures,
    private readonly seal: StateSeal,
    private readonly webhook: SignerWebhook,
    private readonly rateLimiter: AccountRateLimiter,
  ) {
    this.maxTickets = BigInt(config.values.SENDER_REMOTE_SIGNER_MAX_TICKETS);
    this.maxPrice = config.values.SENDER_REMOTE_SIGNER_MAX_PRICE;
    this.capabilityMaxPrices = config.values.SENDER_REMOTE_SIGNER_MAX_PRICE_PER_CAPABILITY ?? new Map();
    this.recover = (hash, sig) => this.signatures.recoverPersonal(hash, sig);
  }

  /** `POST /sign-orchestrator-info`: the account's address (EIP-55) and its GetOrchestrator signature. */
  async signOrchestratorInfo(caller: RemoteCaller): Promise<{ address: string; signature: string }> {
    const payload = orchestratorInfoPayload(caller.account.address);
    const sig = await this.signatures.signPersonal(caller.account, keccak256(payload));
    return { address: toChecksumAddress(caller.account.address), signature: bytesToHex(sig) };
  }

  /**
   * `POST /sign-byoc-job`: the account's signature over a BYOC job, which the gateway puts in the
   * job request's `sender`/`sig` for the orchestrator to check. Go-livepeer's `Sign`: personal-sign
   * of keccak256(payload), the payload being the V1 flattening or, for the SDK's legacy request,
   * the bytes of `request + parameters` (refused when they could pass for a ticket or a state).
   * Nothing is charged: the job is paid for through `/generate-live-payment`.
   */
  async signByocJob(caller: RemoteCaller, req: ByocJobSignRequest): Promise<ByocJobSignature> {
    let payload: Uint8Array;
    if (req.format === 'v1') {
      payload = asRequest(() => flattenByocJob(req.job));
    } else {
      payload = legacyByocJobPayload(req.request, req.parameters);
      const fault = legacyByocPayloadFault(payload, caller.account.address);
      if (fault !== undefined) throw invalidRequest(`sign-byoc-job refused: ${fault}`);
    }
    const sig = await this.signatures.signPersonal(caller.account, keccak256(payload));
    this.logger.debug({
      msg: 'BYOC job signed',
      sender: caller.account.addressHex,
      client: caller.client.name,
      format: req.format,
      ...(req.format === 'v1'
        ? { jobId: req.job.id, capability: req.job.capability }
        : { payloadBytes: payload.length }),
    });
    return { sender: toChecksumAddress(caller.account.address), signature: bytesToHex(sig) };
  }

  /** `POST /generate-live-payment` (docs/remote-signer.md §3.3, authorization before anything is written). */
  async generateLivePayment(
    caller: RemoteCaller,
    req: LivePaymentRequest,
    webhookHeaders: () => Record<string, string[]>,
    authIdHeader: string,
    nowMs = Date.now(),
  ): Promise<LivePaymentResponse> {
    const info = decodeOrchestratorInfo(req.orchestrator);
    const byocCapability =
      req.type === 'byoc' ? byocCapabilityName(req.manifestId, req.capability, info.priceInfo) : '';
    const price = this.paymentPrice(info, req, byocCapability);
    const orchPrice = asRequest(() => unitPrice(price));
    const params = info.ticketParams;
    if (!params) throw invalidRequest('missing ticketParams in OrchestratorInfo');
    const orchestrator = fitBytes(info.address, 20);

    const loaded = this.loadState(caller, req, orchestrator, price, nowMs);
    if (req.state && req.manifestId === '') throw invalidRequest('missing manifestID');
    // A BYOC job without ManifestID accounts under its capability's name (go-livepeer byoc-v2).
    const manifestId = req.manifestId || byocCapability || randomId();
    if (req.capabilities.length > 0) assertWellFormedMessage(req.capabilities, 'capabilities');

    // go-livepeer's shouldRefreshSession: the auth token, then O's params for one ticket.
    this.checkRefresh(info, nowMs);
    const ev = await this.refreshOn(info, () => this.sender.checkParams(caller.account, params));

    const type = asRequest(() => parseRemotePaymentType(req.type));
    const state: RemotePaymentState = { ...loaded, type };
    // usage: the attested units (checked against the session's quote), else the quote's max_units.
    const usage =
      type === 'usage'
        ? asRequest(() => usageUnits(req.attestation, req.quote, state.quoteId, orchestrator, this.recover))
        : undefined;
    const units = type === 'usage' ? 0n : this.timeUnits(type, state, req, price, nowMs);
    const requestMaxPrice = asRequest(() => parseMaxPrice(req.maxPrice, type));
    this.checkPrice(orchPrice, [
      {
        source: 'configured maximum price',
        price: capabilitiesMaxPrice(this.capabilityMaxPrices, req.capabilities, this.maxPrice),
      },
      { source: 'request maxPrice', price: requestMaxPrice },
      { source: 'initial session price', price: req.state ? unitPrice(state.initialPrice) : undefined },
    ]);
    const fee = usage ? usageFee(usage.units, state.initialPrice) : remoteFee(units, state.initialPrice);
    const numTickets = ticketsNeeded(state.balance, fee, ev);
    // An attested usage call settles usage even when the balance covers it: the state still moves.
    if (numTickets === 0n && !usage?.attested) {
      throw new RemoteSignerError(
        RemoteSignerErrorCode.NO_TICKETS_NEEDED,
        'no tickets: the balance covers this call; nothing was signed',
      );
    }
    if (numTickets > this.maxTickets) {
      throw new RemoteSignerError(
        RemoteSignerErrorCode.TOO_MANY_TICKETS,
        `numTickets ${numTickets} exceeds maximum of ${this.maxTickets} (ticket EV ${ev.toDecimalString(3)} wei, fee ${fee.toDecimalString(0)} wei)`,
      );
    }

    // This node's own policy (allowlist, the contact's maximum price) needs no webhook: refused
    // before it is asked, after every check go-livepeer makes before its webhook.
    this.sender.checkPolicy(params, price);
    const pmSessionId = bytesToHex(params.recipientRandHash);
    const nonceFloor = state.pmSessionId === pmSessionId ? state.senderNonce : 0;
    const balance = balanceAfter(state.balance, numTickets, ev, fee);
    // The state this call writes must read back on the next one (the rule decodeRemoteState reads
    // with), or the session and its credit would be stranded: refused before anything is asked,
    // signed or written. Exact rational usage units can make a balance too long to keep.
    asRequest(() => stateBalanceText(balance));
    // Authorization after the price and the ticket count, as go-livepeer, but before anything is
    // written or signed (go-livepeer #3958, #3961). go-livepeer asks its webhook once the tickets
    // are signed, with the state the call leaves: the webhook is shown that state, its nonce the
    // one the batch reaches (unless concurrent calls of the session take nonces meanwhile).
    const leaves = {
      ...state,
      balance,
      lastUpdateMs: nowMs,
      pmSessionId,
      senderNonce: nonceFloor + Number(numTickets),
    };
    // A call that signs no tickets (an attested usage call) still has the account seal a state and
    // may ask the webhook, and an attestation carries no nonce (it can be sent again): it counts as
    // one ticket, the smallest batch, against the account's per-second cap; a batch is counted in
    // createTicketBatch. Taken before the webhook is asked; given back when authorization refuses.
    const allowance =
      numTickets === 0n ? await this.rateLimiter.take(caller.account.addressHex, 1) : undefined;
    try {
      await this.authorize(state, leaves, webhookHeaders, authIdHeader, nowMs, orchPrice);
    } catch (err) {
      await allowance?.release().catch(() => undefined);
      throw err;
    }

    const tickets =
      numTickets === 0n
        ? undefined
        : await this.signTickets(caller, info, params, price, nonceFloor, numTickets);
    const segCreds = tickets
      ? await this.segmentCredentials(caller, info, manifestId, req.capabilities)
      : undefined;
    const next: RemotePaymentState = {
      ...state,
      balance,
      lastUpdateMs: nowMs,
      pmSessionId,
      senderNonce: tickets?.lastNonce ?? nonceFloor,
    };
    const blob = encodeRemoteState(next);
    const sig = await this.seal.seal(blob, caller.account);
    this.logger.debug({
      msg: 'live payment signed',
      sender: caller.account.addressHex,
      client: caller.client.name,
      recipient: bytesToHex(params.recipient),
      stateId: next.stateId,
      seq: next.sequenceNumber,
      tickets: Number(numTickets),
      nonce: next.senderNonce,
      fee: fee.toDecimalString(0),
      balance: next.balance.toDecimalString(0),
      ...(usage && usageLog(next, usage)),
    });
    return {
      payment: tickets?.paymentHeader ?? '',
      ...(segCreds ? { segCreds } : {}),
      state: { State: Buffer.from(blob).toString('base64'), Sig: Buffer.from(sig).toString('base64') },
    };
  }

  /**
   * Units of the time- and request-billed types (everything but `usage`). A continuing call is
   * never billed as a first one (that prepays again), even when replica clocks disagree by a
   * little: at least 1 ms has passed.
   */
  private timeUnits(
    type: Exclude<RemotePaymentType, 'usage'>,
    state: RemotePaymentState,
    req: LivePaymentRequest,
    price: PriceInfo,
    nowMs: number,
  ): bigint {
    const elapsedMs = state.lastUpdateMs === undefined ? 0n : BigInt(Math.max(1, nowMs - state.lastUpdateMs));
    const byoc =
      type === 'byoc'
        ? { pixelsPerUnit: price.pixelsPerUnit, timeoutSeconds: req.timeoutSeconds }
        : undefined;
    return asRequest(() => billableUnits(type, elapsedMs, req.inPixels, byoc));
  }

  /** Opens (or resumes) the Sender session for O's params and signs `count` tickets in it. */
  private async signTickets(
    caller: RemoteCaller,
    info: OrchestratorInfo,
    params: TicketParams,
    price: PriceInfo,
    nonceFloor: number,
    count: bigint,
  ): Promise<{ paymentHeader: string; lastNonce: number }> {
    const session = await this.refreshOn(info, () =>
      this.sender.openSession(caller.account, params, price, { nonceFloor, quietResume: true }),
    );
    return this.refreshOn(info, () =>
      this.sender.createTicketBatch(caller.client, session.sessionId, Number(count)),
    );
  }

  /**
   * The price this payment is sized and billed at: the OrchestratorInfo's `price_info`, or for a
   * BYOC payment the named capability's entry in `price_info` or `capabilities_prices`. The BYOC
   * price also goes into the Payment's expected_price.
   */
  private paymentPrice(info: OrchestratorInfo, req: LivePaymentRequest, byocCapability: string): PriceInfo {
    if (req.type === 'byoc') {
      let prices: readonly PriceInfo[];
      try {
        prices = orchestratorCapabilityPricesCodec.decode(req.orchestrator);
      } catch (err) {
        throw invalidRequest(`orchestrator capabilities_prices unreadable: ${(err as Error).message}`, err);
      }
      return asRequest(() => byocPrice(info.priceInfo, prices, byocCapability));
    }
    const price = info.priceInfo;
    if (!price || price.pricePerUnit === 0n || price.pixelsPerUnit === 0n) {
      throw invalidRequest('missing or zero priceInfo');
    }
    return price;
  }

  /**
   * The sealed state checked against the request, or a new one (go-livepeer's order of checks); a
   * new `usage` session locks the request's quote here, as go-livepeer does.
   */
  private loadState(
    caller: RemoteCaller,
    req: LivePaymentRequest,
    orchestrator: Uint8Array,
    price: { pricePerUnit: bigint; pixelsPerUnit: bigint },
    nowMs: number,
  ): Omit<RemotePaymentState, 'type'> {
    if (!req.state) {
      // The state keeps the price as JSON numbers; go-livepeer's int64 prices this large are not taken.
      if (price.pricePerUnit > MAX_IN_PIXELS || price.pixelsPerUnit > MAX_IN_PIXELS) {
        throw invalidRequest('priceInfo parts above 2^53 − 1 are not supported');
      }
      const quote =
        req.type === 'usage'
          ? asRequest(() =>
              lockUsageQuote(req.quote, {
                orchestrator,
                manifestId: req.manifestId,
                price,
                nowMs,
                recover: this.recover,
              }),
            )
          : undefined;
      return {
        stateId: randomId(),
        pmSessionId: '',
        lastUpdateMs: undefined,
        orchestrator,
        app: req.app,
        authExpiry: 0,
        senderNonce: 0,
        balance: Rational.ZERO,
        initialPrice: quote?.initialPrice ?? {
          pricePerUnit: price.pricePerUnit,
          pixelsPerUnit: price.pixelsPerUnit,
        },
        sequenceNumber: 0,
        authId: '',
        quoteId: quote?.quoteId ?? '',
        sellUnit: quote?.sellUnit ?? '',
        upchargeBps: quote?.upchargeBps ?? 0,
        sender: caller.account.address,
        client: caller.client.name,
      };
    }
    const { signer } = this.seal.open(req.state.state, req.state.sig);
    let state: RemotePaymentState;
    try {
      state = decodeRemoteState(req.state.state);
    } catch (err) {
      throw new RemoteSignerError(RemoteSignerErrorCode.INVALID_REQUEST, 'invalid state', { cause: err });
    }
    const mismatch = (what: string) => new RemoteSignerError(RemoteSignerErrorCode.STATE_MISMATCH, what);
    if (signer !== undefined && signer !== bytesToHex(state.sender)) throw mismatch('state signer mismatch');
    if (!equalBytes(state.orchestrator, orchestrator)) throw mismatch('orchestratorAddress mismatch');
    if (state.app !== req.app) throw mismatch('app mismatch');
    if (state.type !== '' && state.type !== req.type) throw mismatch('job type mismatch');
    if (!equalBytes(state.sender, caller.account.address) || state.client !== caller.client.name) {
      throw mismatch('the state belongs to another sender account or API client');
    }
    if (state.lastUpdateMs !== undefined && state.lastUpdateMs > nowMs + 60_000) {
      throw mismatch('the state was updated in the future: replica clocks disagree');
    }
    return { ...state, sequenceNumber: state.sequenceNumber + 1 };
  }

  /**
   * Asks the webhook, when it is configured and the state holds no unexpired authorization, and
   * checks its maxPrice; then records the caller's identity (which must not change), in
   * go-livepeer's order. The state keeps the authorization's expiry and the identity; the webhook
   * is sent `shown` (the state the call leaves).
   */
  private async authorize(
    state: RemotePaymentState,
    shown: RemotePaymentState,
    headers: () => Record<string, string[]>,
    authIdHeader: string,
    nowMs: number,
    orchPrice: Rational,
  ): Promise<void> {
    let verdict: WebhookVerdict | undefined;
    const cached = state.authExpiry !== 0 && Math.floor(nowMs / 1000) <= state.authExpiry;
    if (this.webhook.enabled && !cached) {
      verdict = await this.webhook.authorize(headers(), remoteStateJson(shown));
      state.authExpiry = verdict.expiry;
      const ceiling = this.webhookMaxPrice(verdict, state.type);
      this.checkPrice(orchPrice, [{ source: 'auth webhook maxPrice', price: ceiling }]);
    }
    const authId = verdict?.authId || authIdHeader;
    if (authId !== '' && authId !== state.authId) {
      if (state.authId !== '') {
        throw new RemoteSignerError(
          RemoteSignerErrorCode.AUTH_ID_CHANGED,
          'remote signer auth ID changed: the session belongs to another identity',
        );
      }
      state.authId = authId;
    }
  }

  private webhookMaxPrice(verdict: WebhookVerdict, type: RemotePaymentType): Rational | undefined {
    try {
      return parseMaxPrice(verdict.maxPrice, type);
    } catch (err) {
      throw new RemoteSignerError(
        RemoteSignerErrorCode.WEBHOOK_FAILED,
        `signer auth invalid maxPrice: ${(err as Error).message}`,
      );
    }
  }

  /** 481 when the orchestrator's price is above the lowest of these ceilings. */
  private checkPrice(orchPrice: Rational, ceilings: PriceCeiling[]): void {
    const exceeded = exceededCeiling(orchPrice, ceilings);
    if (exceeded) {
      throw new RemoteSignerError(
        RemoteSignerErrorCode.PRICE_EXCEEDED,
        `orchestrator price ${orchPrice.toDecimalString(3)} exceeds ${exceeded.source} ceiling ${exceeded.price!.toDecimalString(3)}`,
      );
    }
  }

  /** go-livepeer's shouldRefreshSession, first half: the auth token must outlive the next 3 minutes. */
  private checkRefresh(info: OrchestratorInfo, nowMs: number): void {
    const token = info.authToken;
    if (!token)
      throw invalidRequest('remote signer could not check whether to refresh session: missing auth token');
    if (BigInt(Math.floor(nowMs / 1000)) > token.expiration - AUTH_TOKEN_REFRESH_SECONDS) {
      throw refreshSession(info, 'refresh session for remote signer: the auth token expires');
    }
  }

  /** Runs a Sender step, turning "fetch fresh params" failures into HTTP 480. */
  private async refreshOn<T>(info: OrchestratorInfo, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      if (err instanceof TicketError && err.code === TicketErrorCode.PARAMS_EXPIRED) {
        throw refreshSession(info, `refresh session for remote signer: ${err.message}`);
      }
      if (err instanceof SenderError && err.code === SenderErrorCode.NONCE_CAP_REACHED) {
        throw refreshSession(info, `refresh session for remote signer: ${err.message}`);
      }
      throw err;
    }
  }

  /** `Livepeer-Segment` for a live payment (docs/remote-signer.md §6.3), signed by the tickets' account. */
  private async segmentCredentials(
    caller: RemoteCaller,
    info: OrchestratorInfo,
    manifestId: string,
    capabilities: Uint8Array,
  ): Promise<string> {
    const flat = segmentFlatten(manifestId, 0n, EMPTY_SEGMENT_HASH);
    const sig = await this.signatures.signPersonal(caller.account, keccak256(flat));
    const bytes = segDataCodec.encode({
      manifestId: new TextEncoder().encode(manifestId),
      seq: 0n,
      hash: EMPTY_SEGMENT_HASH,
      sig,
      capabilities,
      authToken: info.authToken,
    });
    return Buffer.from(bytes).toString('base64');
  }
}

/** What a usage call's debug log adds. */
function usageLog(state: RemotePaymentState, usage: UsageUnits) {
  return {
    quoteId: state.quoteId,
    usageUnits: usage.units.toDecimalString(6),
    billableUnits: usage.billable.toString(),
    attested: usage.attested,
  };
}

function decodeOrchestratorInfo(bytes: Uint8Array): OrchestratorInfo & { ticketParams?: TicketParams } {
  try {
    return orchestratorInfoCodec.decode(bytes);
  } catch (err) {
    throw invalidRequest(`orchestrator is not a net.OrchestratorInfo: ${(err as Error).message}`, err);
  }
}

/** Input checks of the pure protocol module surface as INVALID_REQUEST. */
function asRequest<T>(step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof TicketError && err.code === TicketErrorCode.INVALID_INPUT)
      throw invalidRequest(err.message, err);
    throw err;
  }
}

function refreshSession(info: OrchestratorInfo, message: string): RemoteSignerError {
  return new RemoteSignerError(RemoteSignerErrorCode.REFRESH_SESSION, message, {
    headers: info.transcoder === '' ? {} : { [ORCHESTRATOR_URL_HEADER]: info.transcoder },
  });
}

function randomId(): string {
  return randomBytes(8).toString('hex');
}
