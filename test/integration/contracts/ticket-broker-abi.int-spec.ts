import { Interface, type JsonFragment } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadArtifact, type ArtifactName } from '#app/chain';
import { startProtocol, type ProtocolFixture } from './protocol-fixture.js';

// Livepeer's live TicketBroker target ABI (TICKETBROKER.md §3), copied from the spec's tables:
// our broker must expose exactly these selectors and topics and nothing else.
const EXPECTED_FUNCTIONS: Record<string, string> = {
  '0x6caa736b': 'fundDeposit()',
  '0x6f9c3c8f': 'fundReserve()',
  '0x511f4073': 'fundDepositAndReserve(uint256,uint256)',
  '0x989f789c': 'fundDepositAndReserveFor(address,uint256,uint256)',
  '0xec8b3cb6': 'redeemWinningTicket((address,address,uint256,uint256,uint256,bytes32,bytes),bytes,uint256)',
  '0xd01b808e':
    'batchRedeemWinningTickets((address,address,uint256,uint256,uint256,bytes32,bytes)[],bytes[],uint256[])',
  '0xa69df4b5': 'unlock()',
  '0xc2c4c2c8': 'cancelUnlock()',
  '0x3ccfd60b': 'withdraw()',
  '0xe1a589da': 'getSenderInfo(address)',
  '0x5b6333eb': 'getReserveInfo(address)',
  '0x81779f38': 'claimableReserve(address,address)',
  '0x4ac826da': 'claimedReserve(address,address)',
  '0x121cdcc2': 'isUnlockInProgress(address)',
  '0xb03fa864': 'getTicketHash((address,address,uint256,uint256,uint256,bytes32,bytes))',
  '0x59a515ba': 'usedTickets(bytes32)',
  '0x20d3a0b4': 'unlockPeriod()',
  '0x856a2cf8': 'ticketValidityPeriod()',
  '0x3d0ddf84': 'setUnlockPeriod(uint256)',
  '0xc9297808': 'setTicketValidityPeriod(uint256)',
  '0xf77c4791': 'controller()',
  '0x51720b41': 'targetContractId()',
  '0x92eefe9b': 'setController(address)',
};

const EXPECTED_EVENTS: Record<string, string> = {
  '0x5159e237d952190e68d5215430f305831be7c9c8776d1377c76679ae4773413f': 'DepositFunded(address,uint256)',
  '0xb52b99b9e83551fcbd069b559cc3e823e2a1a3bad8ece46561ea77524394c850': 'ReserveFunded(address,uint256)',
  '0x5c2b394723f408a40a60335e24b71829642e35f350cebe2036a96a66e895ea98':
    'ReserveClaimed(address,address,uint256)',
  '0xc389eb51ed006dbf2528507f010efdf5225ea596e1e1741d74f550dab1925ee7':
    'WinningTicketRedeemed(address,address,uint256,uint256,uint256,uint256,bytes)',
  '0x8b87351a208c06e3ceee59d80725fd77a23b4129e1b51ca231fc89b40712649c':
    'WinningTicketTransfer(address,address,uint256)',
  '0xf7870c5b224cbc19873599e46ccfc7103934650509b1af0c3ce90138377c2004': 'Unlock(address,uint256,uint256)',
  '0xfa044b7b93a40365dc68049797c2eb06918523d694e5d56e406cac3eb35578e5': 'UnlockCancelled(address)',
  '0xdf273cb619d95419a9cd0ec88123a0538c85064229baa6363788f743fff90deb': 'Withdrawal(address,uint256,uint256)',
  '0x9f5033568d78ae30f29f01e944f97b2216493bd19d1b46d429673acff3dcd674': 'ParameterUpdate(string)',
  '0x4ff638452bbf33c012645d18ae6f05515ff5f2d1dfb0cece8cbf018c60903f70': 'SetController(address)',
};

// Which event parameters are indexed (spec §3.2): order matters for decoding topics.
const EXPECTED_INDEXED: Record<string, boolean[]> = {
  DepositFunded: [true, false],
  ReserveFunded: [true, false],
  ReserveClaimed: [true, false, false],
  WinningTicketRedeemed: [true, true, false, false, false, false, false],
  WinningTicketTransfer: [true, true, false],
  Unlock: [true, false, false],
  UnlockCancelled: [true],
  Withdrawal: [true, false, false],
  ParameterUpdate: [false],
  SetController: [false],
};

const PAYABLE = ['fundDeposit', 'fundReserve', 'fundDepositAndReserve', 'fundDepositAndReserveFor'];

describe('TicketBroker ABI matches Livepeer\u2019s live target', () => {
  const artifact = loadArtifact('TicketBroker');
  const iface = new Interface(artifact.abi);

  it('has exactly the 23 functions with the spec selectors', () => {
    const actual: Record<string, string> = {};
    iface.forEachFunction((f) => (actual[f.selector] = f.format('sighash')));
    expect(actual).toEqual(EXPECTED_FUNCTIONS);
  });

  it('has exactly the 10 events with the spec topics and indexed parameters', () => {
    const actual: Record<string, string> = {};
    iface.forEachEvent((e) => {
      actual[e.topicHash] = e.format('sighash');
      expect(
        e.inputs.map((p) => p.indexed),
        e.name,
      ).toEqual(EXPECTED_INDEXED[e.name]);
    });
    expect(actual).toEqual(EXPECTED_EVENTS);
  });

  it('has 34 entries: constructor(address _controller), no receive/fallback/errors', () => {
    expect(artifact.abi).toHaveLength(34);
    const other = artifact.abi.filter((e: JsonFragment) => e.type !== 'function' && e.type !== 'event');
    expect(other).toEqual([
      {
        type: 'constructor',
        stateMutability: 'nonpayable',
        inputs: [{ name: '_controller', type: 'address', internalType: 'address' }],
      },
    ]);
  });

  it('makes only the four funding functions payable and marks getTicketHash pure', () => {
    const payable: string[] = [];
    iface.forEachFunction((f) => f.payable && payable.push(f.name));
    expect(payable.sort()).toEqual([...PAYABLE].sort());
    expect(iface.getFunction('getTicketHash')!.stateMutability).toBe('pure');
  });

  it('names struct results as go-livepeer and ethers users read them', () => {
    const outputs = iface.getFunction('getSenderInfo')!.outputs;
    expect(outputs.map((o) => o.name)).toEqual(['sender', 'reserve']);
    expect(outputs[0].components!.map((c) => c.name)).toEqual(['deposit', 'withdrawRound']);
    expect(outputs[1].components!.map((c) => c.name)).toEqual(['fundsRemaining', 'claimedInCurrentRound']);
    const ticket = iface.getFunction('getTicketHash')!.inputs[0].components!.map((c) => c.name);
    expect(ticket).toEqual([
      'recipient',
      'sender',
      'faceValue',
      'winProb',
      'senderNonce',
      'recipientRandHash',
      'auxData',
    ]);
  });
});

describe('deployed code', () => {
  let fx: ProtocolFixture;
  beforeAll(async () => {
    fx = await startProtocol();
  });
  afterAll(() => fx?.stop());

  it('is exactly the artifacts\u2019 runtime bytecode for all six contracts', async () => {
    const { addresses } = fx.protocol;
    const deployed: Record<ArtifactName, string> = {
      Controller: addresses.controller,
      Minter: addresses.minter,
      BondingManager: addresses.bondingManager,
      RoundsManager: addresses.roundsManager,
      TicketBroker: addresses.ticketBroker,
      ServiceRegistry: addresses.serviceRegistry,
    };
    for (const [name, address] of Object.entries(deployed) as [ArtifactName, string][]) {
      expect(await fx.anvil.provider.getCode(address), name).toBe(loadArtifact(name).deployedBytecode);
    }
  });

  it('fits the EIP-170 code size limit', () => {
    expect((loadArtifact('TicketBroker').deployedBytecode.length - 2) / 2).toBeLessThanOrEqual(24_576);
  });
});
