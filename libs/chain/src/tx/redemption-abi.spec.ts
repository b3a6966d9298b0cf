import { randomBytes } from 'node:crypto';
import { Interface, getAddress, keccak256, solidityPackedKeccak256, toBeHex, zeroPadValue } from 'ethers';
import { describe, expect, it } from 'vitest';
import { loadArtifact } from '../artifacts.js';
import {
  decodeRedeemed,
  decodeTransferAmount,
  encodeBatchRedeemCall,
  encodeRedeemCall,
  type RedeemArgs,
} from './redemption-abi.js';

const broker = new Interface(loadArtifact('TicketBroker').abi);
const redeem = broker.getFunction('redeemWinningTicket')!;
const batch = broker.getFunction('batchRedeemWinningTickets')!;
const hex = (n: number) => `0x${randomBytes(n).toString('hex')}`;
const uint = () => BigInt(hex(32));

function args(aux: string = hex(64), sigBytes = 65): RedeemArgs {
  return {
    ticket: {
      recipient: hex(20),
      sender: getAddress(hex(20)),
      faceValue: uint(),
      winProb: uint(),
      senderNonce: BigInt(randomBytes(1)[0]),
      recipientRandHash: hex(32),
      auxData: aux,
    },
    sig: hex(sigBytes),
    recipientRand: uint(),
  };
}

const ethersRedeem = (a: RedeemArgs) => broker.encodeFunctionData(redeem, [a.ticket, a.sig, a.recipientRand]);

describe('redemption calldata by hand', () => {
  it('encodes redeemWinningTicket exactly as ethers does, whatever the auxData and signature lengths', () => {
    for (const a of [args(), args('0x'), args(hex(33), 64), args(hex(64), 1)]) {
      expect(encodeRedeemCall(redeem.selector, a)).toBe(ethersRedeem(a));
    }
  });

  it('encodes batchRedeemWinningTickets exactly as ethers does, for 0, 1 and many tickets', () => {
    for (const list of [[], [args()], [args(), args('0x'), args(hex(10), 70), args()]]) {
      expect(encodeBatchRedeemCall(batch.selector, list)).toBe(
        broker.encodeFunctionData(batch, [
          list.map((a) => a.ticket),
          list.map((a) => a.sig),
          list.map((a) => a.recipientRand),
        ]),
      );
    }
  });

  it('refuses values the ABI cannot carry', () => {
    expect(() => encodeRedeemCall(redeem.selector, { ...args(), recipientRand: -1n })).toThrow(RangeError);
    expect(() => encodeRedeemCall(redeem.selector, { ...args(), recipientRand: 1n << 256n })).toThrow(
      RangeError,
    );
    const bad = args();
    expect(() =>
      encodeRedeemCall(redeem.selector, { ...bad, ticket: { ...bad.ticket, sender: '0x12' } }),
    ).toThrow(TypeError);
    expect(() => encodeRedeemCall(redeem.selector, { ...bad, sig: '0x123' })).toThrow(TypeError);
  });
});

describe('redemption events by hand', () => {
  it('reads WinningTicketRedeemed as ethers does and rebuilds the ticket hash as the contract does', () => {
    for (const aux of [hex(64), '0x', hex(5)]) {
      const a = args(aux);
      const event = broker.getEvent('WinningTicketRedeemed')!;
      const log = broker.encodeEventLog(event, [
        a.ticket.sender,
        a.ticket.recipient,
        a.ticket.faceValue,
        a.ticket.winProb,
        a.ticket.senderNonce,
        a.recipientRand,
        aux,
      ]);
      const expected = solidityPackedKeccak256(
        ['address', 'address', 'uint256', 'uint256', 'uint256', 'bytes32', 'bytes'],
        [
          a.ticket.recipient,
          a.ticket.sender,
          a.ticket.faceValue,
          a.ticket.winProb,
          a.ticket.senderNonce,
          keccak256(zeroPadValue(toBeHex(a.recipientRand), 32)),
          aux,
        ],
      );
      expect(decodeRedeemed(log)).toEqual({
        ticketHash: expected.toLowerCase(),
        sender: a.ticket.sender.toLowerCase(),
        recipient: a.ticket.recipient.toLowerCase(),
        faceValue: a.ticket.faceValue,
      });
    }
  });

  it('reads the amount of WinningTicketTransfer', () => {
    const amount = uint();
    const log = broker.encodeEventLog(broker.getEvent('WinningTicketTransfer')!, [hex(20), hex(20), amount]);
    expect(decodeTransferAmount(log)).toBe(amount);
  });
});
