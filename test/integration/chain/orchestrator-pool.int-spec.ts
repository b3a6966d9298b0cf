import { AbiCoder, Wallet, keccak256, toBeHex, zeroPadValue, type ContractTransactionResponse } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChainError,
  ChainErrorCode,
  bondingManagerAt,
  discoverAddresses,
  readOrchestratorPool,
  type BondingManagerContract,
  type ProtocolAddresses,
} from '#app/chain';
import {
  ANVIL_PRIVATE_KEYS,
  deployProtocol,
  setServiceUri,
  startAnvil,
  type AnvilInstance,
} from '#app/testing';

// readOrchestratorPool against the dev protocol on anvil, with addresses discovered from the
// Controller as the Sender would.

let anvil: AnvilInstance;
let owner: Wallet;
let addresses: ProtocolAddresses;
let bonding: BondingManagerContract;
const orchestrators: Wallet[] = [];
/** Publishes a URI but is never in the pool. */
let outsider: Wallet;

beforeAll(async () => {
  anvil = await startAnvil();
  owner = new Wallet(ANVIL_PRIVATE_KEYS[0], anvil.provider);
  orchestrators.push(...[7, 8, 9].map((i) => new Wallet(ANVIL_PRIVATE_KEYS[i], anvil.provider)));
  outsider = new Wallet(ANVIL_PRIVATE_KEYS[6], anvil.provider);
  const deployed = await deployProtocol(owner, {
    recipients: orchestrators.slice(0, 2).map((o) => o.address),
  });
  addresses = await discoverAddresses(anvil.provider, deployed.controller);
  bonding = bondingManagerAt(addresses.bondingManager, owner);
});
afterAll(() => anvil?.stop());

async function mined(tx: Promise<ContractTransactionResponse>): Promise<void> {
  await (await tx).wait();
}

const uriOf = (o: Wallet) => `https://${o.address.slice(2, 8).toLowerCase()}.example:8935`;
const entry = (o: Wallet) => ({ address: o.address.toLowerCase(), serviceUri: uriOf(o) });

describe('readOrchestratorPool', () => {
  it('lists the pool in order with each URI, leaving out orchestrators without one', async () => {
    const [o1, o2, o3] = orchestrators;
    expect(await readOrchestratorPool(anvil.provider, addresses)).toEqual([]);

    await setServiceUri(o2, addresses.serviceRegistry, uriOf(o2));
    await setServiceUri(outsider, addresses.serviceRegistry, uriOf(outsider));
    expect(await readOrchestratorPool(anvil.provider, addresses)).toEqual([entry(o2)]);

    await setServiceUri(o1, addresses.serviceRegistry, uriOf(o1));
    await setServiceUri(o3, addresses.serviceRegistry, uriOf(o3));
    expect(await readOrchestratorPool(anvil.provider, addresses)).toEqual([entry(o1), entry(o2)]);

    await mined(bonding.register(o3.address));
    await mined(bonding.setActive(o3.address, true));
    await mined(bonding.setActive(o1.address, false));
    expect(await readOrchestratorPool(anvil.provider, addresses)).toEqual([entry(o2), entry(o3)]);

    // Withdrawing the URI takes an orchestrator out of the list, not out of the pool.
    await setServiceUri(o2, addresses.serviceRegistry, '');
    expect(await readOrchestratorPool(owner, addresses)).toEqual([entry(o3)]);
    await setServiceUri(o2, addresses.serviceRegistry, uriOf(o2));
  });

  it('reads the pool as of one block', async () => {
    const [o1, o2, o3] = orchestrators;
    const before = await anvil.provider.getBlockNumber();
    await mined(bonding.setActive(o1.address, true));
    expect(await readOrchestratorPool(anvil.provider, addresses)).toEqual([entry(o2), entry(o3), entry(o1)]);
    expect(await readOrchestratorPool(anvil.provider, addresses, { blockTag: before })).toEqual([
      entry(o2),
      entry(o3),
    ]);
  });

  describe('on a broken pool', () => {
    // BondingManager.sol's storage, in declaration order after Manager's `controller` (slot 0).
    const ACTIVE_COUNT_SLOT = 3n;
    const POOL_HEAD_SLOT = 4n;
    const POOL_NEXT_SLOT = 6n;
    let snapshot: string;

    beforeAll(async () => {
      snapshot = (await anvil.provider.send('evm_snapshot', [])) as string;
      // Fails here, not in a confusing way below, if the layout changes.
      expect(BigInt(await storageAt(ACTIVE_COUNT_SLOT))).toBe(await bonding.getTranscoderPoolSize());
      expect(BigInt(await storageAt(POOL_HEAD_SLOT))).toBe(BigInt(await bonding.getFirstTranscoderInPool()));
    });
    afterAll(() => anvil.provider.send('evm_revert', [snapshot]));

    const storageAt = (slot: bigint): Promise<string> =>
      anvil.provider.getStorage(addresses.bondingManager, slot);
    const setStorage = (slot: bigint | string, value: bigint | string) =>
      anvil.provider.send('anvil_setStorageAt', [
        addresses.bondingManager,
        toBeHex(slot, 32),
        zeroPadValue(toBeHex(value), 32),
      ]);
    const nextSlot = (address: string) =>
      keccak256(AbiCoder.defaultAbiCoder().encode(['address', 'uint256'], [address, POOL_NEXT_SLOT]));

    async function refusal(): Promise<ChainError> {
      const err = await readOrchestratorPool(anvil.provider, addresses).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ChainError);
      expect((err as ChainError).code).toBe(ChainErrorCode.INVALID_TRANSCODER_POOL);
      return err as ChainError;
    }

    it('refuses one longer than its size', async () => {
      await setStorage(ACTIVE_COUNT_SLOT, 2n);
      expect((await refusal()).message).toMatch(/past its size of 2/);
      await setStorage(ACTIVE_COUNT_SLOT, 3n);
    });

    it('refuses one that loops back', async () => {
      // The pool is [o2, o3, o1]: point o1 back at o3.
      const [o1, , o3] = orchestrators;
      await setStorage(nextSlot(o1.address), o3.address);
      expect((await refusal()).message).toMatch(new RegExp(`loops back to ${o3.address.toLowerCase()}`));
      await setStorage(nextSlot(o1.address), 0n);
    });

    it('refuses a size over the cap without walking it', async () => {
      await setStorage(ACTIVE_COUNT_SLOT, 1_001n);
      expect((await refusal()).message).toMatch(/1001 members, more than the 1000/);
    });
  });
});
