import { Interface } from 'ethers';
import { describe, expect, it } from 'vitest';
import { loadArtifact } from '../artifacts.js';
import { compareEvents, decodeChainLog, watchedTopics } from './chain-events.js';

const broker = new Interface(loadArtifact('TicketBroker').abi);
const rounds = new Interface(loadArtifact('RoundsManager').abi);
const addresses = { ticketBroker: '0x' + '0b'.repeat(20), roundsManager: '0x' + '0c'.repeat(20) };
const SENDER = '0x' + 'a1'.repeat(20);
const CLAIMANT = '0x' + 'b2'.repeat(20);

function log(iface: Interface, address: string, name: string, args: unknown[]) {
  const { data, topics } = iface.encodeEventLog(name, args);
  return { address, data, topics, blockNumber: 7, index: 3, transactionHash: '0x' + '00'.repeat(32) };
}

describe('decodeChainLog', () => {
  it('decodes the TicketBroker events that move sender state, addresses lowercase', () => {
    expect(
      decodeChainLog(
        log(broker, addresses.ticketBroker, 'ReserveClaimed', [SENDER, CLAIMANT, 5n]),
        addresses,
      ),
    ).toEqual({
      kind: 'ReserveClaimed',
      sender: SENDER,
      claimant: CLAIMANT,
      amount: 5n,
      block: 7n,
      logIndex: 3,
      txHash: '0x' + '00'.repeat(32),
    });
    expect(
      decodeChainLog(log(broker, addresses.ticketBroker, 'Unlock', [SENDER, 2n, 4n]), addresses),
    ).toMatchObject({
      kind: 'Unlock',
      startRound: 2n,
      endRound: 4n,
    });
  });

  it('decodes NewRound from the RoundsManager only', () => {
    const hash = '0x' + '12'.repeat(32);
    expect(
      decodeChainLog(log(rounds, addresses.roundsManager, 'NewRound', [9n, hash]), addresses),
    ).toMatchObject({
      kind: 'NewRound',
      round: 9n,
      blockHash: hash,
    });
    expect(
      decodeChainLog(log(rounds, addresses.ticketBroker, 'NewRound', [9n, hash]), addresses),
    ).toBeUndefined();
  });

  it('decodes the RoundsManager\'s ParameterUpdate("roundLength") only', () => {
    expect(
      decodeChainLog(log(rounds, addresses.roundsManager, 'ParameterUpdate', ['roundLength']), addresses),
    ).toEqual({ kind: 'RoundLengthUpdate', block: 7n, logIndex: 3, txHash: '0x' + '00'.repeat(32) });
    expect(
      decodeChainLog(log(rounds, addresses.roundsManager, 'ParameterUpdate', ['other']), addresses),
    ).toBeUndefined();
    expect(
      decodeChainLog(log(broker, addresses.ticketBroker, 'ParameterUpdate', ['roundLength']), addresses),
    ).toBeUndefined();
  });

  it('ignores other events and other contracts', () => {
    expect(
      decodeChainLog(log(broker, addresses.ticketBroker, 'ParameterUpdate', ['x']), addresses),
    ).toBeUndefined();
    expect(
      decodeChainLog(log(broker, '0x' + '99'.repeat(20), 'DepositFunded', [SENDER, 1n]), addresses),
    ).toBeUndefined();
  });

  it('filters on exactly the watched topics, and orders events as the chain does', () => {
    // 7 TicketBroker events, NewRound, and ParameterUpdate (one topic for both contracts).
    expect(watchedTopics()).toHaveLength(9);
    const e = (block: bigint, logIndex: number) => ({ block, logIndex, txHash: '0x' });
    expect([e(2n, 0), e(1n, 5), e(1n, 1)].sort(compareEvents)).toEqual([e(1n, 1), e(1n, 5), e(2n, 0)]);
  });
});
