import { randomBytes } from 'node:crypto';
import { decodePaymentHeader } from '#app/proto';
import {
  bytesToHex,
  hexToBytes,
  keccak256,
  nobleBackend,
  personalDigest,
  Rational,
  signatureFault,
  ticketEV,
  type Payment,
} from '#app/ticket';
import type { RecipientClient } from '#app/clients';
import type { RationalMessage } from '#app/proto';
import { decodeSegData, flattenLiveSegData, type AuthToken, type OrchestratorInfo } from './wire.js';

/** go-livepeer orchestrators issue auth tokens valid for 30 minutes. */
const AUTH_TOKEN_TTL_SECONDS = 1_800n;

export interface LiveOrchestratorOptions {
  /** Our Recipient, which validates and credits the tickets (go-livepeer's orchestrator PM side). */
  recipient: RecipientClient;
  /** The orchestrator's (recipient's) address, 0x hex. */
  address: string;
  /** What OrchestratorInfo.transcoder advertises. */
  transcoderUrl: string;
  /** Wei per billable unit, as `pricePerUnit / pixelsPerUnit`. */
  pricePerUnit: bigint;
  pixelsPerUnit: bigint;
  /** Seconds an issued auth token is valid (go-livepeer: 30 min). */
  authTokenTtlSeconds?: bigint;
}

export interface ReceivedPayment {
  senderHex: string;
  manifestId: string;
  recipientRandHashHex: string;
  nonces: number[];
  /** EV of one ticket of these params. */
  ticketEv: Rational;
  credited: Rational;
  balance: Rational;
  acceptedCount: number;
  /** Error codes of refused tickets (empty when all were accepted). */
  ticketErrors: string[];
}

export function rationalOf(r: RationalMessage | undefined): Rational {
  return Rational.of(BigInt(r?.num ?? '0'), BigInt(r?.den ?? '1'));
}

/**
 * The orchestrator's side of a live session, as go-livepeer does it: answers GetOrchestrator with
 * OrchestratorInfo (fresh ticket params from the Recipient, price, an auth token), handles
 * `POST /payment` (checks the segment credentials as go-livepeer does, then has the Recipient
 * validate and credit the tickets), and debits fees for the work it does.
 */
export class LiveOrchestrator {
  private readonly issuedTokens = new Map<string, AuthToken>();

  constructor(private readonly options: LiveOrchestratorOptions) {}

  get transcoderUrl(): string {
    return this.options.transcoderUrl;
  }

  /** GetOrchestrator: what a gateway gets for `senderHex`, with a new auth token. */
  async orchestratorInfo(senderHex: string): Promise<OrchestratorInfo> {
    const { recipient, pricePerUnit, pixelsPerUnit } = this.options;
    const issued = await recipient.getTicketParams({
      sender: hexToBytes(senderHex, 'sender', 20),
      price: { pricePerUnit: pricePerUnit.toString(), pixelsPerUnit: pixelsPerUnit.toString() },
    });
    const ttl = this.options.authTokenTtlSeconds ?? AUTH_TOKEN_TTL_SECONDS;
    const authToken: AuthToken = {
      token: randomBytes(32),
      sessionId: randomBytes(8).toString('hex'),
      expiration: BigInt(Math.floor(Date.now() / 1000)) + ttl,
    };
    this.issuedTokens.set(bytesToHex(authToken.token), authToken);
    return {
      transcoder: this.options.transcoderUrl,
      ticketParams: issued.ticketParams,
      priceInfo: issued.priceInfo,
      address: hexToBytes(this.options.address, 'address', 20),
      authToken,
    };
  }

  /**
   * `POST /payment` with the `Livepeer-Payment` and `Livepeer-Segment` headers. The segment
   * credentials must carry an auth token this orchestrator issued (unexpired) and be signed by
   * the payment's sender; the tickets are then credited to (sender, manifest id).
   */
  async receivePayment(paymentHeader: string, segmentHeader: string): Promise<ReceivedPayment> {
    const payment: Payment = decodePaymentHeader(paymentHeader);
    if (!payment.sender || !payment.ticketParams) throw new Error('payment without sender or ticket params');
    const seg = decodeSegData(segmentHeader);
    const token = seg.authToken && this.issuedTokens.get(bytesToHex(seg.authToken.token));
    if (!token || token.sessionId !== seg.authToken!.sessionId) {
      throw new Error('segment credentials carry an auth token this orchestrator did not issue');
    }
    if (token.expiration * 1000n < BigInt(Date.now()))
      throw new Error('segment credentials: auth token expired');
    const segDigest = personalDigest(keccak256(flattenLiveSegData(seg)));
    const segFault = signatureFault(payment.sender, segDigest, seg.sig, nobleBackend);
    if (segFault !== null) throw new Error(`segment credentials signature refused (${segFault})`);

    const manifestId = Buffer.from(seg.manifestId).toString('utf8');
    const res = await this.options.recipient.processPayment({ paymentHeader, jobId: manifestId });
    return {
      senderHex: bytesToHex(payment.sender),
      manifestId,
      recipientRandHashHex: bytesToHex(payment.ticketParams.recipientRandHash),
      nonces: payment.ticketSenderParams.map((t) => t.senderNonce),
      ticketEv: ticketEV(payment.ticketParams.faceValue, payment.ticketParams.winProb),
      credited: rationalOf(res.credited),
      balance: rationalOf(res.balance),
      acceptedCount: res.acceptedCount,
      ticketErrors: res.tickets.filter((t) => !t.accepted).map((t) => t.errorCode),
    };
  }

  /** Charges `units` of work at the session price to (sender, manifest id); the balance after. */
  async debit(senderHex: string, manifestId: string, units: Rational): Promise<Rational> {
    const fee = units.mul(Rational.of(this.options.pricePerUnit, this.options.pixelsPerUnit));
    const res = await this.options.recipient.debit({
      sender: hexToBytes(senderHex, 'sender', 20),
      jobId: manifestId,
      amount: { num: fee.num.toString(), den: fee.den.toString() },
    });
    return rationalOf(res.balance);
  }
}
