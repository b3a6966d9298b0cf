import fc from 'fast-check';
import { solidityPackedKeccak256 } from 'ethers';
import { describe, expect, it } from 'vitest';
import {
  MAX_UINT256,
  TicketErrorCode,
  auxData,
  bytesToHex,
  encodeTicket,
  hexToBytes,
  parseAddress,
  redeemedTicketHash,
  ticketHash,
  ticketHashText,
  ticketTemplate,
  type TicketHashFields,
  type TicketParams,
} from '#app/ticket';
import { exampleTicket } from '../test/fixtures.js';

const ZERO20 = new Uint8Array(20);
const ZERO32 = new Uint8Array(32);
const FOO_HASH = hexToBytes('0x41b1a0649752af1b28b3dc29a1556eee781e4a4c3a1f7f53f90fa834de098c4d', 'hash', 32);

function zeroTicket(overrides: Partial<TicketHashFields>): TicketHashFields {
  return {
    recipient: ZERO20,
    sender: ZERO20,
    faceValue: 0n,
    winProb: 0n,
    senderNonce: 0,
    recipientRandHash: ZERO32,
    creationRound: 0n,
    creationRoundBlockHash: ZERO32,
    ...overrides,
  };
}

describe('ticket hash', () => {
  it('reproduces the §2.3 worked example byte for byte', () => {
    const packed = encodeTicket(exampleTicket());
    expect(bytesToHex(packed)).toBe(
      '0x70997970c51812dc3a010c7d01b50e0d17dc79c8f39fd6e51aad88f6f4ce6ab8827279cfffb92266' +
        '00000000000000000000000000000000000000000000000000044364c5bb0000' +
        '00006fd91d84bcda58175fdfab3d77a168e2893e4958803b6b57ae84efcbf000' +
        '0000000000000000000000000000000000000000000000000000000000000001' +
        '444275b1e20d40becbca48c8ecb7e58d355f4fdb0be4000e0b7f803a7ad66118' +
        '0000000000000000000000000000000000000000000000000000000000000dac' +
        'ab'.repeat(32),
    );
    expect(bytesToHex(ticketHash(exampleTicket()))).toBe(
      '0x33f834e2e46aa5f15b5f974c336e0f97f3af91b3803bcc46ee76e25d34273f5e',
    );
  });

  it.each([
    [{ senderNonce: 4294967295 }, 'e1393fc7f6de093780674022f96cb8e3872235167d037c04d554e58c0e63d280'],
    [{ senderNonce: 1 }, 'ce0918ba94518293e9712effbe5fca4f1f431089833a5b8c257cb1e024595f68'],
    [{ faceValue: 1n, winProb: 500n }, '87ef13f2d37e4d5352a01d3c77b8179d80e0887f1953bfabfd0bfd7b0f689ddd'],
    [{ faceValue: 500n, winProb: 1n }, 'aa4b35071043587992ac8b9dd1b2cf1d8311130e6458cf0b2342484e21af5f5b'],
    [
      { recipient: parseAddress('0x73AEd7b5dEb30222fa896f399d46cC99c7BEe57F') },
      '81e353ae39046e2b77b9f996abbaeed527fda559b61ef90f299c4499dd508ccc',
    ],
    [{ recipientRandHash: FOO_HASH }, 'be5eaf9a49a39540b9bb02f1a21904f61324a29819e2c032824bfaa10c100b17'],
    [
      { creationRound: 10n, creationRoundBlockHash: FOO_HASH },
      'e502907c16036ab3d11b78c5a2e93c20f3d6415c67f91de4ed01348182b3b2e2',
    ],
  ] as const)('matches go-livepeer pm/ticket_test.go vector %#', (overrides, expected) => {
    expect(bytesToHex(ticketHash(zeroTicket(overrides)))).toBe(`0x${expected}`);
  });

  it('matches the TicketBroker contract vector (TICKETBROKER.md §2.2)', () => {
    const hash = ticketHash({
      recipient: parseAddress('0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'),
      sender: parseAddress('0x70997970C51812dc3A010C7d01b50e0d17dc79C8'),
      faceValue: 100000000000000000n,
      winProb: MAX_UINT256 / 100n,
      senderNonce: 1,
      recipientRandHash: hexToBytes(
        '0x036b6384b5eca791c62761152d0c79bb0604c104a5fb6f4eb0703f3154bb3db0',
        'h',
        32,
      ),
      creationRound: 3000n,
      creationRoundBlockHash: FOO_HASH,
    });
    expect(bytesToHex(hash)).toBe('0xe0e4851ffd7052f661f526736901e84f3b17e5d516e284e9c77b40770c2000f5');
  });

  it('builds auxData per §2.2: empty only when round and hash are both zero', () => {
    expect(auxData({ creationRound: 0n, creationRoundBlockHash: ZERO32 })).toHaveLength(0);
    expect(bytesToHex(auxData({ creationRound: 0n, creationRoundBlockHash: FOO_HASH }))).toBe(
      `0x${'00'.repeat(32)}${bytesToHex(FOO_HASH).slice(2)}`,
    );
    expect(bytesToHex(auxData({ creationRound: 5n, creationRoundBlockHash: ZERO32 }))).toBe(
      `0x${'00'.repeat(31)}05${'00'.repeat(32)}`,
    );
    expect(encodeTicket(zeroTicket({}))).toHaveLength(168);
    expect(encodeTicket(zeroTicket({ creationRound: 1n }))).toHaveLength(232);
  });

  it.each([
    ['faceValue ≥ 2^256', { faceValue: MAX_UINT256 + 1n }],
    ['negative winProb', { winProb: -1n }],
    ['nonce above uint32', { senderNonce: 2 ** 32 }],
    ['fractional nonce', { senderNonce: 1.5 }],
    ['19-byte recipient', { recipient: new Uint8Array(19) }],
    ['31-byte recipientRandHash', { recipientRandHash: new Uint8Array(31) }],
    ['round ≥ 2^256', { creationRound: MAX_UINT256 + 1n }],
  ] as const)('refuses a %s', (_name, overrides) => {
    expect(() => ticketHash(zeroTicket(overrides))).toThrow(
      expect.objectContaining({ code: TicketErrorCode.INVALID_INPUT }),
    );
  });

  it('equals ethers solidityPackedKeccak256 (the contract encoding) for random tickets', () => {
    const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
    const u256 = fc.bigInt({ min: 0n, max: MAX_UINT256 });
    fc.assert(
      fc.property(
        fc.record({
          recipient: bytes(20),
          sender: bytes(20),
          faceValue: u256,
          winProb: u256,
          senderNonce: fc.nat({ max: 0xffff_ffff }),
          recipientRandHash: bytes(32),
          creationRound: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 2n ** 63n - 1n })),
          creationRoundBlockHash: fc.oneof(fc.constant(ZERO32), bytes(32)),
        }),
        (t) => {
          const aux = auxData(t);
          const expected = solidityPackedKeccak256(
            ['address', 'address', 'uint256', 'uint256', 'uint256', 'bytes32', 'bytes'],
            [
              bytesToHex(t.recipient),
              bytesToHex(t.sender),
              t.faceValue,
              t.winProb,
              t.senderNonce,
              bytesToHex(t.recipientRandHash),
              aux,
            ],
          );
          expect(bytesToHex(ticketHash(t))).toBe(expected);
          // A redeemed log's fields give the same hash (nonce as uint256, auxData as bytes).
          expect(
            bytesToHex(redeemedTicketHash({ ...t, senderNonce: BigInt(t.senderNonce), auxData: aux })),
          ).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('hashes a redeemed ticket with any uint256 nonce and any auxData as the contract does', () => {
    const ticket = zeroTicket({ faceValue: 7n, winProb: MAX_UINT256 });
    const nonce = 2n ** 200n + 5n;
    const aux = hexToBytes('0x0102030405', 'aux');
    const expected = solidityPackedKeccak256(
      ['address', 'address', 'uint256', 'uint256', 'uint256', 'bytes32', 'bytes'],
      [bytesToHex(ZERO20), bytesToHex(ZERO20), 7n, MAX_UINT256, nonce, bytesToHex(ZERO32), aux],
    );
    expect(bytesToHex(redeemedTicketHash({ ...ticket, senderNonce: nonce, auxData: aux }))).toBe(expected);
    expect(() => redeemedTicketHash({ ...ticket, senderNonce: MAX_UINT256 + 1n, auxData: aux })).toThrow(
      expect.objectContaining({ code: TicketErrorCode.INVALID_INPUT }),
    );
  });
});

describe('ticketTemplate', () => {
  it("takes the params' recipient, face value, win prob and commitment, the sender and the auxData round", () => {
    const t = exampleTicket();
    const params: TicketParams = {
      recipient: t.recipient,
      faceValue: t.faceValue,
      winProb: t.winProb,
      recipientRandHash: t.recipientRandHash,
      seed: 7n,
      expirationBlock: 99n,
    };
    const expirationParams = {
      creationRound: t.creationRound,
      creationRoundBlockHash: t.creationRoundBlockHash,
    };
    const template = ticketTemplate({ sender: t.sender, params, expirationParams });
    const { senderNonce, ...shared } = t;
    expect(template).toEqual(shared);
    expect(ticketHash({ ...template, senderNonce })).toEqual(ticketHash(t));
  });
});

describe('ticketHashText', () => {
  it('takes 0x and 64 hex digits in either case, in its stored lowercase form, and nothing else', () => {
    const hash = `0x${'aB'.repeat(32)}`;
    expect(ticketHashText(hash)).toBe(hash.toLowerCase());
    for (const bad of [
      `0X${'ab'.repeat(32)}`,
      `0x${'ab'.repeat(31)}`,
      `0x${'ab'.repeat(32)}0`,
      `0x${'zz'.repeat(32)}`,
      'ab'.repeat(33),
      42,
      undefined,
    ]) {
      expect(ticketHashText(bad)).toBeUndefined();
    }
  });
});
