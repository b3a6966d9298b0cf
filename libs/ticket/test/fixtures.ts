import { secp256k1 } from '@noble/curves/secp256k1.js';
import {
  Rational,
  computeRecipientRand,
  createTicketBatch,
  hexToBytes,
  nobleBackend,
  parseAddress,
  recipientRandHash,
  winProbForEV,
  type RecipientContext,
  type TicketBatch,
  type TicketExpirationParams,
  type TicketHashFields,
  type TicketParams,
} from '#app/ticket';

/** Hardhat/anvil account #0, the sender of PROTOCOL.md §2.3. */
export const SENDER_KEY = hexToBytes(
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  'key',
  32,
);
export const SENDER = parseAddress('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
export const RECIPIENT = parseAddress('0x70997970C51812dc3A010C7d01b50e0d17dc79C8');
/** O's HMAC secret of the §5.1 example. */
export const SECRET = new Uint8Array(32).fill(0x11);

/** The §2.3 / §5.1 / Appendix A example. */
export const EXAMPLE = {
  faceValue: 1_200_000_000_000_000n,
  ev: 8_000_000_000n,
  seed: BigInt(`0x${'a5'.repeat(32)}`),
  expirationBlock: 20_000_040n,
  price: Rational.of(1200n),
  expirationParams: { creationRound: 3500n, creationRoundBlockHash: new Uint8Array(32).fill(0xab) },
  recipientRand: 0x25ffbebed97e10dee9c30859c7b2b17bdd722643365efc2394078cd21ae220afn,
  ticketHash: '0x33f834e2e46aa5f15b5f974c336e0f97f3af91b3803bcc46ee76e25d34273f5e',
  digest: '0xe1e17aefb151bca7f4884408000a85851c469861fefccbd62f4a53f073c9f8d5',
  sig:
    '0x4a66b1fecfd8627bcd8c0c789a2139f1037ddb6d84cafeac2240ed6a140caa63' +
    '46991d22c5679ff1305f948754e9979ce255b80f77a9312d9d6c761cf1b9fcd31c',
} as const;

export function exampleTicket(): TicketHashFields {
  return {
    recipient: RECIPIENT,
    sender: SENDER,
    faceValue: EXAMPLE.faceValue,
    winProb: winProbForEV(EXAMPLE.ev, EXAMPLE.faceValue),
    senderNonce: 1,
    recipientRandHash: recipientRandHash(EXAMPLE.recipientRand),
    ...EXAMPLE.expirationParams,
  };
}

export function randomKey(): Uint8Array {
  return secp256k1.utils.randomSecretKey();
}

export interface BatchSetup {
  batch: TicketBatch;
  ctx: RecipientContext;
  recipientRand: bigint;
}

export interface BatchOptions {
  nonces?: readonly number[];
  faceValue?: bigint;
  winProb?: bigint;
  expirationBlock?: bigint;
  expirationParams?: TicketExpirationParams;
  seed?: bigint;
  price?: Rational;
  key?: Uint8Array;
}

/**
 * A batch O (RECIPIENT holding SECRET, L1 head 100, round 10) accepts as is: params with the
 * HMAC commitment over these exact fields, signed by `key`. Noble signs, so fixtures do not
 * depend on the native addon.
 */
export function validBatch(options: BatchOptions = {}): BatchSetup {
  const key = options.key ?? SENDER_KEY;
  const sender = nobleBackend.addressOf(key);
  const faceValue = options.faceValue ?? 1_000_000n;
  const winProb = options.winProb ?? winProbForEV(1000n, faceValue);
  const expirationBlock = options.expirationBlock ?? 140n;
  const expirationParams = options.expirationParams ?? {
    creationRound: 10n,
    creationRoundBlockHash: new Uint8Array(32).fill(7),
  };
  const seed = options.seed ?? 42n;
  const price = options.price ?? Rational.of(3n, 7n);
  const recipientRand = computeRecipientRand(SECRET, {
    seed,
    sender,
    faceValue,
    winProb,
    expirationBlock,
    pricePerPixel: price,
    ...expirationParams,
  });
  const params: TicketParams = {
    recipient: RECIPIENT,
    faceValue,
    winProb,
    recipientRandHash: recipientRandHash(recipientRand),
    seed,
    expirationBlock,
    expirationParams,
  };
  const batch = createTicketBatch(
    { params, expirationParams, pricePerPixel: price, nonces: options.nonces ?? [1, 2, 3], privateKey: key },
    nobleBackend,
  );
  const ctx: RecipientContext = {
    recipient: RECIPIENT,
    secret: SECRET,
    lastSeenL1Block: 100n,
    lastInitializedRound: 10n,
    senderInfo: { withdrawRound: 0n },
  };
  return { batch, ctx, recipientRand };
}
