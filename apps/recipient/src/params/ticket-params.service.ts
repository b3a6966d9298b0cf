import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ChainFacts, defaultRedeemGas, type ChainHead } from '#app/chain';
import {
  Rational,
  SenderMonitor,
  bytesToBigInt,
  bytesToHex,
  computeRecipientRand,
  faceValueFor,
  paramsExpirationBlock,
  parseAddress,
  pricePerPixel,
  recipientRandHash,
  recipientRandInput,
  txCostMultiplierOf,
  winProbForEV,
  type Address,
  type FaceValuePolicy,
  type PriceInfo,
  type TicketParams,
} from '#app/ticket';
import { currentHead } from '../chain-head.js';
import { RecipientMetrics } from '../metrics/recipient.metrics.js';
import { RedisNonceLedger } from '../nonce/redis-nonce-ledger.js';
import { RecipientConfig } from '../recipient.config.js';
import { RecipientError, RecipientErrorCode } from '../recipient.error.js';
import { RecipientSecrets } from '../secret/recipient-secrets.service.js';
import { ExpirationParamsSource } from './expiration-params.source.js';

export interface IssuedParams {
  params: TicketParams;
  /** The price the params are bound to, to be advertised with them unchanged. */
  priceInfo: PriceInfo;
}

/**
 * go-livepeer's `TicketParams(sender, price)` (PROTOCOL.md §5.2): face value from the gas price
 * within the sender's max float, winProb for the target EV, expiry from the L1 head, the last
 * initialized round, a fresh seed and the HMAC commitment. Each set of params is registered in
 * Redis with its price and the id of the secret behind its commitment, which is what later accepts
 * its tickets.
 */
@Injectable()
export class TicketParamsService {
  private readonly policy: Omit<FaceValuePolicy, 'redeemGas'>;
  /** RECIPIENT_REDEEM_GAS; unset: the chain's (defaultRedeemGas by the head's kind). */
  private readonly redeemGas: bigint | undefined;
  private readonly recipient: Address;
  private readonly recipientHex: string;

  constructor(
    private readonly config: RecipientConfig,
    private readonly chain: ChainFacts,
    private readonly senderMonitor: SenderMonitor,
    private readonly secrets: RecipientSecrets,
    private readonly expiration: ExpirationParamsSource,
    private readonly ledger: RedisNonceLedger,
    private readonly metrics: RecipientMetrics,
  ) {
    const v = config.values;
    this.policy = {
      ev: v.RECIPIENT_TICKET_EV,
      txCostMultiplier: v.RECIPIENT_TX_COST_MULTIPLIER,
      maxFaceValue: v.RECIPIENT_MAX_FACE_VALUE,
    };
    this.redeemGas = v.RECIPIENT_REDEEM_GAS;
    this.recipientHex = v.RECIPIENT_ADDRESS;
    this.recipient = parseAddress(v.RECIPIENT_ADDRESS);
  }

  async issue(sender: Address, priceInfo: PriceInfo): Promise<IssuedParams> {
    const price = pricePerPixel(priceInfo);
    const head = currentHead(this.chain, this.config.headLimits());
    const expirationParams = await this.expiration.forHead(head);
    // go-livepeer issues free params (face value 0, never winning) without consulting the reserve.
    const faceValue = price.num > 0n ? await this.faceValue(sender, head) : 0n;
    const winProb = winProbForEV(this.policy.ev, faceValue);
    const seed = bytesToBigInt(randomBytes(32));
    const expirationBlock = paramsExpirationBlock(
      head.l1Block,
      this.config.values.RECIPIENT_PARAMS_EXPIRY_BLOCKS,
    );
    // The params record names the secret used here (by id): it, not the params' expiry, decides
    // which secret validates their tickets, on any replica.
    const secret = this.secrets.current();
    const recipientRand = computeRecipientRand(
      secret.key,
      recipientRandInput({
        sender,
        params: { seed, faceValue, winProb, expirationBlock },
        pricePerPixel: price,
        expirationParams,
      }),
    );
    const params: TicketParams = {
      recipient: this.recipient,
      faceValue,
      winProb,
      recipientRandHash: recipientRandHash(recipientRand),
      seed,
      expirationBlock,
      expirationParams,
    };
    await this.ledger.register(bytesToHex(sender), bytesToHex(params.recipientRandHash), price, secret.id);
    this.metrics.paramsIssued.inc();
    return { params, priceInfo };
  }

  /** The configured target EV (go-livepeer `Recipient.EV()`). */
  ev(): Rational {
    return Rational.of(this.policy.ev);
  }

  /** faceValue / txCost for `sender` (§5.3), with the face value's errors. */
  async txCostMultiplier(sender: Address): Promise<Rational> {
    const head = currentHead(this.chain);
    return txCostMultiplierOf(this.pricing(head), head.gasPrice, await this.faceValue(sender, head));
  }

  /** The face value policy: the configured redemption gas, else the chain's. */
  private pricing(head: ChainHead): FaceValuePolicy {
    return { ...this.policy, redeemGas: this.redeemGas ?? defaultRedeemGas(head.kind) };
  }

  /** The face value for `sender` within its max float, or INSUFFICIENT_SENDER_RESERVE. */
  private async faceValue(sender: Address, head: ChainHead): Promise<bigint> {
    const maxFloat = await this.senderMonitor.maxFloat(bytesToHex(sender), this.recipientHex);
    const outcome = faceValueFor(this.pricing(head), head.gasPrice, maxFloat);
    if (outcome.ok) return outcome.faceValue;
    throw new RecipientError(
      RecipientErrorCode.INSUFFICIENT_SENDER_RESERVE,
      `insufficient sender reserve: ${outcome.reason}`,
    );
  }
}
