import {
  ContractFactory,
  Interface,
  ZeroAddress,
  id,
  parseEther,
  toBeHex,
  toQuantity,
  zeroPadValue,
} from 'ethers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CONTRACT_IDS,
  ChainError,
  ChainErrorCode,
  bondingManagerAt,
  controllerAt,
  discoverAddresses,
  loadArtifact,
  minterAt,
  roundsManagerAt,
  serviceRegistryAt,
  ticketBrokerAt,
} from '#app/chain';
import {
  NO_COMMIT,
  TEST_ROUND_LENGTH,
  eventArgs,
  eventNames,
  mined,
  revertOf,
  startProtocol,
  type ProtocolFixture,
} from './protocol-fixture.js';

// The dev stand-ins for Livepeer's Controller, RoundsManager, BondingManager and Minter.

let fx: ProtocolFixture;
beforeAll(async () => {
  fx = await startProtocol();
});
afterAll(() => fx?.stop());
// A fresh round per test, so no test's own txs cross a round boundary (see TEST_ROUND_LENGTH).
beforeEach(async () => {
  await fx.nextRound();
});

/** The BondingManager's pool from first to last, checked against its size. */
async function walkPool(): Promise<string[]> {
  const pool: string[] = [];
  const size = await fx.bonding.getTranscoderPoolSize();
  for (let t = await fx.bonding.getFirstTranscoderInPool(); t !== ZeroAddress;) {
    pool.push(t);
    if (pool.length > Number(size)) throw new Error(`pool longer than its size ${size}`);
    t = await fx.bonding.getNextTranscoderInPool(t);
  }
  expect(pool).toHaveLength(Number(size));
  return pool;
}

async function deployFreshController() {
  const artifact = loadArtifact('Controller');
  const deployed = await new ContractFactory(artifact.abi, artifact.bytecode, fx.owner).deploy();
  await deployed.waitForDeployment();
  return controllerAt(await deployed.getAddress(), fx.owner);
}

describe('deployment and discovery', () => {
  it('registers every contract by name (TicketBroker also as JobsManager) and discovers them', async () => {
    const { addresses, controller } = fx.protocol;
    expect(await discoverAddresses(fx.anvil.provider, controller)).toEqual(addresses);
    expect(await fx.controller.getContract(CONTRACT_IDS.JobsManager)).toBe(addresses.ticketBroker);
    expect(CONTRACT_IDS.BondingManager).toBe(id('BondingManager'));
    expect(CONTRACT_IDS.TicketBrokerTarget.slice(0, 10)).toBe('0xf16f832e');
  });

  it('leaves the system unpaused with parameters set and round 1+ initialized', async () => {
    expect(await fx.controller.paused()).toBe(false);
    expect(await fx.controller.owner()).toBe(fx.owner.address);
    expect(await fx.rounds.roundLength()).toBe(TEST_ROUND_LENGTH);
    expect(await fx.broker.unlockPeriod()).toBe(2n);
    expect(await fx.broker.ticketValidityPeriod()).toBe(2n);
    expect(await fx.rounds.currentRound()).toBeGreaterThanOrEqual(1n);
    expect(await fx.rounds.currentRoundInitialized()).toBe(true);
    expect(await fx.bonding.getTranscoderPoolSize()).toBe(2n);
    expect(await fx.broker.controller()).toBe(fx.protocol.controller);
    expect(await fx.broker.targetContractId()).toBe(`0x${'00'.repeat(32)}`);
  });

  it('discoverAddresses fails with CONTRACT_NOT_REGISTERED on a Controller missing a name', async () => {
    const bare = await deployFreshController();
    const err = await discoverAddresses(fx.anvil.provider, await bare.getAddress()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChainError);
    expect((err as ChainError).code).toBe(ChainErrorCode.CONTRACT_NOT_REGISTERED);
  });
});

describe('Controller', () => {
  it('starts paused, and pause/unpause are owner-only with Pause/Unpause events', async () => {
    const c = await deployFreshController();
    expect(await c.paused()).toBe(true);
    expect((await revertOf(c.pause())).reason).toBe('system is paused');

    const stranger = await fx.newAccount();
    const asStranger = controllerAt(await c.getAddress(), stranger);
    expect((await revertOf(asStranger.unpause())).reason).toBe('caller must be owner');
    expect(eventNames(await mined(c.unpause()), c)).toEqual(['Unpause']);
    expect((await revertOf(c.unpause())).reason).toBe('system is not paused');
    expect((await revertOf(asStranger.pause())).reason).toBe('caller must be owner');
    expect(eventNames(await mined(c.pause()), c)).toEqual(['Pause']);
  });

  it('stores contract info (owner only) and emits SetContractInfo', async () => {
    const someId = id('SomethingElse');
    const commit = `0x${'ab'.repeat(20)}`;
    const receipt = await mined(fx.controller.setContractInfo(someId, fx.owner.address, commit));
    const [args] = eventArgs(receipt, fx.controller, 'SetContractInfo');
    expect([args[0], args[1], args[2]]).toEqual([someId, fx.owner.address, commit]);
    expect(await fx.controller.getContractInfo(someId)).toEqual([fx.owner.address, commit]);
    expect(await fx.controller.getContract(someId)).toBe(fx.owner.address);
    expect(await fx.controller.getContract(id('NeverRegistered'))).toBe(ZeroAddress);

    const stranger = controllerAt(fx.protocol.controller, await fx.newAccount());
    expect((await revertOf(stranger.setContractInfo(someId, ZeroAddress, NO_COMMIT))).reason).toBe(
      'caller must be owner',
    );
  });

  it('transfers ownership (owner only, not to zero) with OwnershipTransferred', async () => {
    const next = await fx.newAccount();
    expect((await revertOf(fx.controller.transferOwnership(ZeroAddress))).reason).toBe(
      'new owner is the zero address',
    );
    const receipt = await mined(fx.controller.transferOwnership(next.address));
    expect(eventNames(receipt, fx.controller)).toEqual(['OwnershipTransferred']);
    expect(await fx.controller.owner()).toBe(next.address);
    // The TicketBroker follows the Controller's owner for its admin functions.
    expect((await revertOf(fx.broker.setUnlockPeriod(2))).reason).toBe('caller must be Controller owner');
    await mined(controllerAt(fx.protocol.controller, next).transferOwnership(fx.owner.address));
    expect(await fx.controller.owner()).toBe(fx.owner.address);
  });

  it('migrates a registered contract with updateController, which calls setController (SetController)', async () => {
    const { controller, ticketBroker } = fx.protocol.addresses;
    const other = await fx.newAccount();
    const receipt = await mined(fx.controller.updateController(CONTRACT_IDS.TicketBroker, other.address));
    const [args] = eventArgs(receipt, fx.broker, 'SetController');
    expect(args[0]).toBe(other.address);
    expect(await fx.broker.controller()).toBe(other.address);
    // Only the (new) Controller may move it again; here that is the `other` EOA.
    expect((await revertOf(fx.broker.setController(controller))).reason).toBe('caller must be Controller');
    await mined(ticketBrokerAt(ticketBroker, other).setController(controller));
    expect(await fx.broker.controller()).toBe(controller);
  });
});

describe('RoundsManager', () => {
  it('counts rounds of roundLength blocks and initializes each once, emitting NewRound', async () => {
    const before = await fx.rounds.currentRound();
    await fx.mineToNextRoundUninitialized();
    const round = await fx.rounds.currentRound();
    expect(round).toBe(before + 1n);
    expect(await fx.rounds.currentRoundInitialized()).toBe(false);
    expect(await fx.rounds.blockHashForRound(round)).toBe(`0x${'00'.repeat(32)}`);
    expect(await fx.rounds.blockNum()).toBe(BigInt(await fx.anvil.provider.getBlockNumber()));
    expect(await fx.rounds.currentRoundStartBlock()).toBe(round * TEST_ROUND_LENGTH);

    const receipt = await mined(fx.rounds.initializeRound());
    const [args] = eventArgs(receipt, fx.rounds, 'NewRound');
    const previousBlock = await fx.anvil.provider.getBlock(receipt.blockNumber - 1);
    expect(args[0]).toBe(round);
    expect(args[1]).toBe(previousBlock!.hash);
    expect(receipt.logs[0].topics[1]).toBe(zeroPadValue(toBeHex(round), 32));
    expect(await fx.rounds.blockHashForRound(round)).toBe(previousBlock!.hash);
    expect(await fx.rounds.lastInitializedRound()).toBe(round);
    expect(await fx.rounds.currentRoundInitialized()).toBe(true);
    expect((await revertOf(fx.rounds.initializeRound())).reason).toBe('round already initialized');
  });

  it('refuses initializeRound while paused', async () => {
    await fx.mineToNextRoundUninitialized();
    await mined(fx.controller.pause());
    expect((await revertOf(fx.rounds.initializeRound())).reason).toBe('system is paused');
    await mined(fx.controller.unpause());
    await mined(fx.rounds.initializeRound());
  });

  it('changes roundLength (Controller owner only, > 0) without moving the current round', async () => {
    const stranger = roundsManagerAt(fx.protocol.addresses.roundsManager, await fx.newAccount());
    expect((await revertOf(stranger.setRoundLength(10))).reason).toBe('caller must be Controller owner');
    expect((await revertOf(fx.rounds.setRoundLength(0))).reason).toBe('round length cannot be 0');

    const round = await fx.rounds.currentRound();
    const start = await fx.rounds.currentRoundStartBlock();
    const receipt = await mined(fx.rounds.setRoundLength(10));
    expect(eventArgs(receipt, fx.rounds, 'ParameterUpdate')[0][0]).toBe('roundLength');
    expect(await fx.rounds.currentRound()).toBe(round);
    expect(await fx.rounds.currentRoundStartBlock()).toBe(start);
    expect(await fx.rounds.lastRoundLengthUpdateRound()).toBe(round);
    expect(await fx.rounds.lastRoundLengthUpdateStartBlock()).toBe(start);

    // The new length counts from the current round's start block.
    const latest = BigInt(await fx.anvil.provider.getBlockNumber());
    await fx.anvil.provider.send('anvil_mine', [toQuantity(start + 10n - latest)]);
    expect(await fx.rounds.currentRound()).toBe(round + 1n);
    expect(await fx.rounds.currentRoundStartBlock()).toBe(start + 10n);

    await mined(fx.rounds.setRoundLength(TEST_ROUND_LENGTH));
    expect(await fx.rounds.currentRound()).toBe(round + 1n);
  });
});

describe('BondingManager', () => {
  it('registers and (de)activates recipients (owner only), keeping the pool size in step', async () => {
    const t = await fx.newAccount();
    const stranger = bondingManagerAt(fx.protocol.addresses.bondingManager, await fx.newAccount());
    expect((await revertOf(stranger.register(t.address))).reason).toBe('caller must be Controller owner');
    expect((await revertOf(stranger.setActive(t.address, true))).reason).toBe(
      'caller must be Controller owner',
    );
    expect((await revertOf(fx.bonding.setActive(t.address, true))).reason).toBe(
      'transcoder must be registered',
    );

    await mined(fx.bonding.register(t.address));
    expect(await fx.bonding.isRegisteredTranscoder(t.address)).toBe(true);
    expect(await fx.bonding.isActiveTranscoder(t.address)).toBe(false);
    expect(await fx.bonding.getTranscoderPoolSize()).toBe(2n);

    const round = await fx.rounds.currentRound();
    const activated = await mined(fx.bonding.setActive(t.address, true));
    expect(
      eventArgs(activated, fx.bonding, 'TranscoderActivated').map((a) => [
        a.transcoder as string,
        a[1] as bigint,
      ]),
    ).toEqual([[t.address, round]]);
    expect(await fx.bonding.isActiveTranscoder(t.address)).toBe(true);
    expect(await fx.bonding.getTranscoderPoolSize()).toBe(3n);
    // Idempotent: no double counting, no event.
    expect((await mined(fx.bonding.setActive(t.address, true))).logs).toHaveLength(0);
    expect(await fx.bonding.getTranscoderPoolSize()).toBe(3n);

    const deactivated = await mined(fx.bonding.setActive(t.address, false));
    expect(
      eventArgs(deactivated, fx.bonding, 'TranscoderDeactivated').map((a) => [
        a.transcoder as string,
        a[1] as bigint,
      ]),
    ).toEqual([[t.address, round]]);
    expect(await fx.bonding.getTranscoderPoolSize()).toBe(2n);
    expect(await fx.bonding.isRegisteredTranscoder(t.address)).toBe(true);
  });

  it('accepts fee updates only from the "TicketBroker" registration', async () => {
    const [r] = fx.recipients;
    expect((await revertOf(fx.bonding.updateTranscoderWithFees(r.address, 1, 1))).reason).toBe(
      'caller must be TicketBroker',
    );
    // Registering an EOA as TicketBroker lets it through, down to the registration check.
    const fake = await fx.newAccount();
    await fx.withContract(CONTRACT_IDS.TicketBroker, fake.address, async () => {
      const asFake = bondingManagerAt(fx.protocol.addresses.bondingManager, fake);
      const stranger = await fx.newAccount();
      expect((await revertOf(asFake.updateTranscoderWithFees(stranger.address, 1, 1))).reason).toBe(
        'transcoder must be registered',
      );
      const before = await fx.bonding.pendingFees(r.address, 0);
      await mined(asFake.updateTranscoderWithFees(r.address, 5, 999));
      expect(await fx.bonding.pendingFees(r.address, 0)).toBe(before + 5n);
      expect(await fx.bonding.pendingFees(r.address, 0)).toBe(before + 5n);
      await mined(fx.controller.pause());
      expect((await revertOf(asFake.updateTranscoderWithFees(r.address, 1, 1))).reason).toBe(
        'system is paused',
      );
      await mined(fx.controller.unpause());
    });
  });

  it('pays fees out through the Minter with WithdrawFees', async () => {
    const [r] = fx.recipients;
    // ETH reaches the Minter through the broker; the fees are credited through a temporary
    // "TicketBroker" registration (the ticket path is covered by the redemption tests).
    const sender = await fx.newAccount();
    await mined(fx.brokerAs(sender).fundDeposit({ value: parseEther('1') }));
    const fake = await fx.newAccount();
    await fx.withContract(CONTRACT_IDS.TicketBroker, fake.address, () =>
      mined(
        bondingManagerAt(fx.protocol.addresses.bondingManager, fake).updateTranscoderWithFees(
          r.address,
          parseEther('1'),
          0,
        ),
      ),
    );

    const asR = bondingManagerAt(fx.protocol.addresses.bondingManager, r);
    const fees = await fx.bonding.pendingFees(r.address, 0);
    expect((await revertOf(asR.withdrawFees(ZeroAddress, 1))).reason).toBe('invalid recipient');
    expect((await revertOf(asR.withdrawFees(r.address, fees + 1n))).reason).toBe(
      'insufficient fees to withdraw',
    );
    // A recipient that rejects ETH (the Controller has no receive function).
    expect((await revertOf(asR.withdrawFees(fx.protocol.controller, 1))).reason).toBe('ETH transfer failed');

    const payee = await fx.newAccount(0n);
    const minterBefore = await fx.anvil.provider.getBalance(fx.protocol.addresses.minter);
    const receipt = await mined(asR.withdrawFees(payee.address, parseEther('0.25')));
    const [args] = eventArgs(receipt, fx.bonding, 'WithdrawFees');
    expect([args[0], args[1], args[2]]).toEqual([r.address, payee.address, parseEther('0.25')]);
    expect(await fx.anvil.provider.getBalance(payee.address)).toBe(parseEther('0.25'));
    expect(await fx.anvil.provider.getBalance(fx.protocol.addresses.minter)).toBe(
      minterBefore - parseEther('0.25'),
    );
    expect(await fx.bonding.pendingFees(r.address, 0)).toBe(fees - parseEther('0.25'));

    await mined(fx.controller.pause());
    expect((await revertOf(asR.withdrawFees(payee.address, 1))).reason).toBe('system is paused');
    await mined(fx.controller.unpause());
  });

  it('keeps the active transcoders as a pool walkable in activation order, through deactivations', async () => {
    const [r0, r1] = fx.recipients.map((r) => r.address);
    const [a, b, c] = await Promise.all([fx.newAccount(), fx.newAccount(), fx.newAccount()]).then((ws) =>
      ws.map((w) => w.address),
    );
    expect(await walkPool()).toEqual([r0, r1]);
    for (const t of [a, b, c]) await mined(fx.bonding.register(t));
    for (const t of [a, b, c]) await mined(fx.bonding.setActive(t, true));
    expect(await walkPool()).toEqual([r0, r1, a, b, c]);

    // From the middle, the tail and the head: the rest stays linked, and a removed address reads as
    // outside the pool.
    await mined(fx.bonding.setActive(b, false));
    expect(await walkPool()).toEqual([r0, r1, a, c]);
    expect(await fx.bonding.getNextTranscoderInPool(b)).toBe(ZeroAddress);
    await mined(fx.bonding.setActive(c, false));
    expect(await walkPool()).toEqual([r0, r1, a]);
    await mined(fx.bonding.setActive(r0, false));
    expect(await fx.bonding.getFirstTranscoderInPool()).toBe(r1);
    expect(await walkPool()).toEqual([r1, a]);

    // Re-activation appends; registered-only (c) and unknown addresses are not in the pool.
    await mined(fx.bonding.setActive(b, true));
    await mined(fx.bonding.setActive(r0, true));
    expect(await walkPool()).toEqual([r1, a, b, r0]);
    expect(await fx.bonding.getNextTranscoderInPool(c)).toBe(ZeroAddress);
    expect(await fx.bonding.getNextTranscoderInPool((await fx.newAccount()).address)).toBe(ZeroAddress);

    for (const t of [a, b]) await mined(fx.bonding.setActive(t, false));
    expect(await walkPool()).toEqual([r1, r0]);
  });

  it('exposes the pool with mainnet\u2019s signatures', () => {
    const iface = new Interface(loadArtifact('BondingManager').abi);
    expect(iface.getFunction('getFirstTranscoderInPool')!.format('full')).toBe(
      'function getFirstTranscoderInPool() view returns (address)',
    );
    expect(iface.getFunction('getNextTranscoderInPool')!.format('full')).toBe(
      'function getNextTranscoderInPool(address _transcoder) view returns (address)',
    );
    expect(iface.getFunction('getTranscoderPoolSize')!.format('full')).toBe(
      'function getTranscoderPoolSize() view returns (uint256)',
    );
  });
});

describe('Minter', () => {
  it('takes ETH only from "Minter"/"JobsManager" and pays only "BondingManager"/"JobsManager", unpaused', async () => {
    const stranger = await fx.newAccount();
    const asStranger = minterAt(fx.protocol.addresses.minter, stranger);
    expect((await revertOf(asStranger.depositETH({ value: 1 }))).reason).toBe(
      'msg.sender not Minter or JobsManager',
    );
    expect((await revertOf(asStranger.trustedWithdrawETH(stranger.address, 1))).reason).toBe(
      'msg.sender not BondingManager or JobsManager',
    );

    // An EOA registered as JobsManager passes both gates.
    await fx.withContract(CONTRACT_IDS.JobsManager, stranger.address, async () => {
      const balance = await fx.anvil.provider.getBalance(fx.protocol.addresses.minter);
      expect(await asStranger.depositETH.staticCall({ value: 7 })).toBe(true);
      await mined(asStranger.depositETH({ value: 7 }));
      expect(await fx.anvil.provider.getBalance(fx.protocol.addresses.minter)).toBe(balance + 7n);
      await mined(fx.controller.pause());
      expect((await revertOf(asStranger.trustedWithdrawETH(stranger.address, 7))).reason).toBe(
        'system is paused',
      );
      await mined(fx.controller.unpause());
      await mined(asStranger.trustedWithdrawETH(stranger.address, 7));
      expect(await fx.anvil.provider.getBalance(fx.protocol.addresses.minter)).toBe(balance);
    });
  });
});

describe('ServiceRegistry', () => {
  it('keeps each caller\u2019s own URI, announced with ServiceURIUpdate', async () => {
    const [a, b] = await Promise.all([fx.newAccount(), fx.newAccount()]);
    const registry = serviceRegistryAt(fx.protocol.addresses.serviceRegistry, fx.owner);
    const asA = serviceRegistryAt(fx.protocol.addresses.serviceRegistry, a);
    expect(await registry.getServiceURI(a.address)).toBe('');

    const receipt = await mined(asA.setServiceURI('https://a.example:8935'));
    const [args] = eventArgs(receipt, registry, 'ServiceURIUpdate');
    expect([args[0], args[1]]).toEqual([a.address, 'https://a.example:8935']);
    expect(receipt.logs[0].topics[1]).toBe(zeroPadValue(a.address.toLowerCase(), 32));
    expect(await registry.getServiceURI(a.address)).toBe('https://a.example:8935');
    expect(await registry.getServiceURI(b.address)).toBe('');

    // Only the caller's own entry changes; as on mainnet it needs no registration and no unpaused system.
    await mined(fx.controller.pause());
    await mined(
      serviceRegistryAt(fx.protocol.addresses.serviceRegistry, b).setServiceURI('https://b.example'),
    );
    await mined(fx.controller.unpause());
    expect(await registry.getServiceURI(b.address)).toBe('https://b.example');
    expect(await registry.getServiceURI(a.address)).toBe('https://a.example:8935');
    await mined(asA.setServiceURI(''));
    expect(await registry.getServiceURI(a.address)).toBe('');
  });

  it('has mainnet\u2019s ABI', () => {
    const iface = new Interface(loadArtifact('ServiceRegistry').abi);
    expect(iface.getFunction('setServiceURI')!.format('full')).toBe(
      'function setServiceURI(string _serviceURI)',
    );
    expect(iface.getFunction('getServiceURI')!.format('full')).toBe(
      'function getServiceURI(address _addr) view returns (string)',
    );
    expect(iface.getEvent('ServiceURIUpdate')!.format('full')).toBe(
      'event ServiceURIUpdate(address indexed addr, string serviceURI)',
    );
  });
});
