import fc from 'fast-check';
import {
  MAX_INT64,
  MAX_UINT256,
  type Payment,
  type PriceInfo,
  type SignedTicket,
  type TicketExpirationParams,
  type TicketParams,
  type TicketSenderParams,
} from '#app/ticket';

const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
const uint256 = fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: MAX_UINT256 }));
const int64 = fc.bigInt({ min: -MAX_INT64 - 1n, max: MAX_INT64 });

export const arbitraryExpirationParams: fc.Arbitrary<TicketExpirationParams> = fc.record({
  creationRound: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: MAX_INT64 })),
  creationRoundBlockHash: bytes(32),
});

export const arbitraryTicketParams: fc.Arbitrary<TicketParams> = fc.record(
  {
    recipient: bytes(20),
    faceValue: uint256,
    winProb: uint256,
    recipientRandHash: bytes(32),
    seed: uint256,
    expirationBlock: uint256,
    expirationParams: arbitraryExpirationParams,
  },
  { requiredKeys: ['recipient', 'faceValue', 'winProb', 'recipientRandHash', 'seed', 'expirationBlock'] },
);

export const arbitrarySenderParams: fc.Arbitrary<TicketSenderParams> = fc.record({
  senderNonce: fc.nat({ max: 0xffff_ffff }),
  sig: fc.oneof(bytes(65), fc.uint8Array({ maxLength: 70 })),
});

export const arbitraryPriceInfo: fc.Arbitrary<PriceInfo> = fc.record({
  pricePerUnit: int64,
  pixelsPerUnit: int64,
  capability: fc.nat({ max: 0xffff_ffff }),
  constraint: fc.string(),
});

export const arbitraryPayment: fc.Arbitrary<Payment> = fc.record(
  {
    ticketParams: arbitraryTicketParams,
    sender: bytes(20),
    expirationParams: arbitraryExpirationParams,
    ticketSenderParams: fc.array(arbitrarySenderParams, { maxLength: 8 }),
    expectedPrice: arbitraryPriceInfo,
  },
  { requiredKeys: ['ticketSenderParams'] },
);

export const arbitrarySignedTicket: fc.Arbitrary<SignedTicket> = fc.record({
  recipient: bytes(20),
  sender: bytes(20),
  faceValue: uint256,
  winProb: uint256,
  senderNonce: fc.nat({ max: 0xffff_ffff }),
  recipientRandHash: bytes(32),
  creationRound: fc.bigInt({ min: 0n, max: MAX_INT64 }),
  creationRoundBlockHash: bytes(32),
  paramsExpirationBlock: uint256,
  sig: bytes(65),
  recipientRand: uint256,
});
