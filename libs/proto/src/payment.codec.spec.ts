import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_UINT256,
  Rational,
  bytesToHex,
  computeRecipientRand,
  createTicketBatch,
  hexToBytes,
  nobleBackend,
  parseAddress,
  paymentFromTicketBatch,
  recipientRandHash,
  ticketBatchFromPayment,
  winProbForEV,
  type Payment,
  type PriceInfo,
  type TicketParams,
} from '#app/ticket';
import {
  ProtoErrorCode,
  decodePaymentHeader,
  encodePaymentHeader,
  paymentCodec,
  paymentHeaderOf,
  priceInfoCodec,
  ticketExpirationParamsCodec,
  ticketParamsCodec,
  ticketSenderParamsCodec,
} from '#app/proto';
import { arbitraryPayment, arbitraryTicketParams } from '../test/arbitraries.js';

const APPENDIX_A_HEX =
  '0a89010a1470997970c51812dc3a010c7d01b50e0d17dc79c81207044364c5bb00001a1e6fd91d84bcda58175fdfab3d77a168e2893e4958' +
  '803b6b57ae84efcbf0002220444275b1e20d40becbca48c8ecb7e58d355f4fdb0be4000e0b7f803a7ad661182a20a5a5a5a5a5a5a5a5a5a5a5' +
  'a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5320401312d281214f39fd6e51aad88f6f4ce6ab8827279cfffb922661a2508ac1b1220ab' +
  'ababababababababababababababababababababababababababababababab2245080112414a66b1fecfd8627bcd8c0c789a2139f1037ddb6d' +
  '84cafeac2240ed6a140caa6346991d22c5679ff1305f948754e9979ce255b80f77a9312d9d6c761cf1b9fcd31c2a0508b0091001';
// The base64 printed in PROTOCOL.md Appendix A lacks one `q6ur` group (three 0xab bytes of the
// block hash): it decodes to 276 bytes, not the 279 of the hex dump above it. This is the
// base64 of that hex dump, which the test also checks directly.
const APPENDIX_A_BASE64 =
  'CokBChRwmXlwxRgS3DoBDH0BtQ4NF9x5yBIHBENkxbsAABoeb9kdhLzaWBdf36s9d6Fo4ok+SViAO2tXroTvy/AAIiBEQnWx4g1AvsvKSMjst+WNNV9P2wvkAA4Lf4A6etZhGCogpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaUyBAExLSgSFPOf1uUarYj29M5quIJyec//uSJmGiUIrBsSIKurq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urIkUIARJBSmax/s/YYnvNjAx4miE58QN9222Eyv6sIkDtahQMqmNGmR0ixWef8TBflIdU6Zec4lW4D3epMS2dbHYc8bn80xwqBQiwCRAB';

const SENDER_KEY = hexToBytes(
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  'key',
  32,
);
const PRICE: PriceInfo = { pricePerUnit: 1200n, pixelsPerUnit: 1n, capability: 0, constraint: '' };

/** The Appendix A payment, built the way B builds it: O's params, then signing. */
function appendixAPayment(nonces: number[] = [1]): Payment {
  const sender = parseAddress('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
  const faceValue = 1_200_000_000_000_000n;
  const winProb = winProbForEV(8_000_000_000n, faceValue);
  const seed = BigInt(`0x${'a5'.repeat(32)}`);
  const expirationParams = { creationRound: 3500n, creationRoundBlockHash: new Uint8Array(32).fill(0xab) };
  const price = Rational.of(1200n);
  const rand = computeRecipientRand(new Uint8Array(32).fill(0x11), {
    seed,
    sender,
    faceValue,
    winProb,
    expirationBlock: 20_000_040n,
    pricePerPixel: price,
    ...expirationParams,
  });
  const params: TicketParams = {
    recipient: parseAddress('0x70997970C51812dc3A010C7d01b50e0d17dc79C8'),
    faceValue,
    winProb,
    recipientRandHash: recipientRandHash(rand),
    seed,
    expirationBlock: 20_000_040n,
    expirationParams,
  };
  const batch = createTicketBatch(
    { params, expirationParams, pricePerPixel: price, nonces, privateKey: SENDER_KEY },
    nobleBackend,
  );
  return paymentFromTicketBatch(batch, PRICE);
}

describe('Payment codec', () => {
  it('reproduces the Appendix A bytes and header exactly', () => {
    const payment = appendixAPayment();
    const bytes = paymentCodec.encode(payment);
    expect(bytes).toHaveLength(279);
    expect(bytesToHex(bytes)).toBe(`0x${APPENDIX_A_HEX}`);
    expect(Buffer.from(APPENDIX_A_HEX, 'hex').toString('base64')).toBe(APPENDIX_A_BASE64);
    expect(encodePaymentHeader(payment)).toBe(APPENDIX_A_BASE64);
    // From the message the Sender also hands to gRPC: the same header, the message unchanged.
    const message = paymentCodec.toMessage(payment);
    expect(paymentHeaderOf(message)).toBe(APPENDIX_A_BASE64);
    expect(paymentCodec.encodeMessage(message)).toEqual(bytes);
    expect(paymentCodec.fromMessage(message)).toEqual(payment);
    expect(decodePaymentHeader(APPENDIX_A_BASE64)).toEqual(payment);
  });

  it('round-trips a payment with several ticket sender params, in order', () => {
    const payment = appendixAPayment([1, 2, 3, 600, 4294967295]);
    const decoded = paymentCodec.decode(paymentCodec.encode(payment));
    expect(decoded).toEqual(payment);
    expect(decoded.ticketSenderParams.map((p) => p.senderNonce)).toEqual([1, 2, 3, 600, 4294967295]);
    expect(ticketBatchFromPayment(decoded)?.senderParams).toHaveLength(5);
  });

  it('round-trips random payments and random ticket params', () => {
    fc.assert(
      fc.property(arbitraryPayment, (payment) => {
        const bytes = paymentCodec.encode(payment);
        expect(paymentCodec.decode(bytes)).toEqual(payment);
        expect(paymentCodec.encode(paymentCodec.decode(bytes))).toEqual(bytes);
        expect(decodePaymentHeader(encodePaymentHeader(payment))).toEqual(payment);
        expect(paymentHeaderOf(paymentCodec.toMessage(payment))).toBe(Buffer.from(bytes).toString('base64'));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(arbitraryTicketParams, (params) => {
        expect(ticketParamsCodec.decode(ticketParamsCodec.encode(params))).toEqual(params);
      }),
    );
  });

  it('writes no bytes for zero integers, and fixed-size fields whole (as Go does)', () => {
    const params: TicketParams = {
      recipient: new Uint8Array(20),
      faceValue: 0n,
      winProb: 0n,
      recipientRandHash: new Uint8Array(32),
      seed: 0n,
      expirationBlock: 0n,
    };
    expect(bytesToHex(ticketParamsCodec.encode(params))).toBe(
      `0x0a14${'00'.repeat(20)}2220${'00'.repeat(32)}`,
    );
    expect(ticketSenderParamsCodec.encode({ senderNonce: 0, sig: new Uint8Array(0) })).toHaveLength(0);
    expect(
      bytesToHex(
        priceInfoCodec.encode({ pricePerUnit: 0n, pixelsPerUnit: 1n, capability: 0, constraint: '' }),
      ),
    ).toBe('0x1001');
    expect(paymentCodec.decode(new Uint8Array(0))).toEqual({ ticketSenderParams: [] });
  });

  it('reads integers and addresses like go-livepeer: leading zeros tolerated, last 20 bytes kept', () => {
    // face_value = 00 00 05 (3 bytes), recipient = 22 bytes, creation_round_block_hash = 1 byte.
    const params = ticketParamsCodec.decode(hexToBytes(`0x0a16aaaa${'11'.repeat(20)}1203000005`, 'p'));
    expect(params.faceValue).toBe(5n);
    expect(bytesToHex(params.recipient)).toBe(`0x${'11'.repeat(20)}`);
    const exp = ticketExpirationParamsCodec.decode(hexToBytes('0x08011201ff', 'e'));
    expect(bytesToHex(exp.creationRoundBlockHash)).toBe(`0x${'00'.repeat(31)}ff`);
  });

  it('refuses malformed bytes and out-of-range values with typed errors', () => {
    expect(() => paymentCodec.decode(Uint8Array.of(0x0a, 0x05, 0x01))).toThrow(
      expect.objectContaining({ code: ProtoErrorCode.MALFORMED_MESSAGE, domain: 'proto' }),
    );
    const tooWide = Uint8Array.of(0x12, 33, 1, ...new Uint8Array(32));
    expect(() => ticketParamsCodec.decode(tooWide)).toThrow(
      expect.objectContaining({ code: ProtoErrorCode.INVALID_FIELD, message: 'face_value exceeds 256 bits' }),
    );
    const withNegative = Uint8Array.of(0x08, ...new Array<number>(9).fill(0xff), 0x01);
    expect(() => ticketExpirationParamsCodec.decode(withNegative)).toThrow(
      'creation_round must not be negative',
    );
    expect(() =>
      ticketParamsCodec.encode({ ...appendixAPayment().ticketParams!, faceValue: MAX_UINT256 + 1n }),
    ).toThrow('face_value must be a uint256');
    expect(() =>
      ticketParamsCodec.encode({ ...appendixAPayment().ticketParams!, recipient: new Uint8Array(19) }),
    ).toThrow('recipient must be 20 bytes');
    expect(() => ticketSenderParamsCodec.encode({ senderNonce: -1, sig: new Uint8Array(65) })).toThrow(
      'sender_nonce must be a uint32',
    );
  });

  it('refuses a header that is not padded standard base64', () => {
    for (const bad of ['CokB ChRw', 'CokBCh', 'Co-_', 'CokBChR=x']) {
      expect(() => decodePaymentHeader(bad)).toThrow(
        expect.objectContaining({ code: ProtoErrorCode.INVALID_HEADER }),
      );
    }
    expect(decodePaymentHeader('')).toEqual({ ticketSenderParams: [] });
  });
});
