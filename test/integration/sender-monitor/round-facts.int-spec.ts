import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainClient, RpcChainFacts, type ChainHead } from '#app/chain';
import { freshPendingNonce } from '#app/testing';
import { mined } from '../contracts/protocol-fixture.js';
import { eventually, startMonitor, stringify, type MonitorUnderTest } from './harness.js';

// The round schedule (length, current round's start block) in the chain facts of both sources, the
// event-driven ChainWatcher and the polling RpcChainFacts, as the RoundsManager reports it: at
// boot, into a new round, and after a round length change (a ParameterUpdate event).

let m: MonitorUnderTest;
let client: ChainClient;
let rpc: RpcChainFacts;

beforeAll(async () => {
  m = await startMonitor('round-facts-spec');
  client = new ChainClient({ rpcUrl: m.fx.anvil.url, controllerAddress: m.fx.protocol.controller });
  await client.onModuleInit();
  // Read on demand (refresh), not polled: its module init would start the poll loop.
  rpc = new RpcChainFacts(client, { l1BlockSource: 'block', pollIntervalMs: 100, minGasPrice: 0n });
});
afterAll(async () => {
  rpc?.onApplicationShutdown();
  client?.onApplicationShutdown();
  await m?.stop();
});

/** The schedule at `head`'s block, read from the RoundsManager itself. */
async function onChain(head: ChainHead) {
  const blockTag = Number(head.block);
  const [roundLength, currentRoundStartBlock, currentRound] = await Promise.all([
    m.fx.rounds.roundLength({ blockTag }),
    m.fx.rounds.currentRoundStartBlock({ blockTag }),
    m.fx.rounds.currentRound({ blockTag }),
  ]);
  return { roundLength, currentRoundStartBlock, currentRound };
}

const schedule = (head: ChainHead) => ({
  roundLength: head.rounds.roundLength,
  currentRoundStartBlock: head.rounds.currentRoundStartBlock,
  currentRound: head.rounds.currentRound,
});

/** Both sources at the latest block agree with the RoundsManager; returns the watcher's head. */
async function bothAgree(): Promise<ChainHead> {
  await m.caughtUp();
  const latest = BigInt(await m.fx.anvil.provider.getBlockNumber());
  const watched = m.watcher.head();
  expect(watched.block).toBe(latest);
  expect(schedule(watched)).toEqual(await onChain(watched));
  const polled = await eventually(
    () => rpc.refresh(),
    (h) => h.block === latest,
  );
  expect(schedule(polled)).toEqual(await onChain(polled));
  return watched;
}

describe('round facts: round length and start block from both chain-facts sources', () => {
  it('match the RoundsManager at boot and in the next round', async () => {
    const first = await bothAgree();
    expect(first.rounds.roundLength).toBeGreaterThan(0n);
    await m.fx.nextRound();
    const next = await bothAgree();
    expect(next.rounds.currentRound).toBe(first.rounds.currentRound + 1n);
    expect(next.rounds.currentRoundStartBlock).toBe(
      first.rounds.currentRoundStartBlock + first.rounds.roundLength,
    );
  });

  it('follow a round length change (the watcher re-reads on its ParameterUpdate event)', async () => {
    await m.fx.nextRound();
    const before = await bothAgree();
    const reads = m.watcher.status().events.RoundLengthUpdate;
    // Longer: the current round's end moves out, its number and start stay (the change applies
    // from the start of the current round).
    const setLength = async (length: bigint) =>
      mined(m.fx.rounds.setRoundLength(length, { nonce: await freshPendingNonce(m.fx.owner) }));
    await setLength(before.rounds.roundLength * 2n);
    const after = await bothAgree();
    expect(m.watcher.status().events.RoundLengthUpdate, stringify(m.watcher.status())).toBe(reads + 1);
    expect(after.rounds).toMatchObject({
      roundLength: before.rounds.roundLength * 2n,
      currentRound: before.rounds.currentRound,
      currentRoundStartBlock: before.rounds.currentRoundStartBlock,
    });
    await setLength(before.rounds.roundLength);
    expect((await bothAgree()).rounds.roundLength).toBe(before.rounds.roundLength);
  });
});

describe('RpcChainFacts: account reads once per head block', () => {
  it('shares a read for as long as its head lasts, and reads again at the next head', async () => {
    const sender = await m.fx.newAccount();
    const broker = m.fx.brokerAs(sender);
    await mined(broker.fundDeposit({ value: 1_000n }));
    const latest = BigInt(await m.fx.anvil.provider.getBlockNumber());
    await eventually(
      () => rpc.refresh(),
      (h) => h.block === latest,
    );
    const [a, b] = await Promise.all([rpc.senderInfo(sender.address), rpc.senderInfo(sender.address)]);
    expect(a).toBe(b);
    expect(a.deposit).toBe(1_000n);

    // A deposit in a later block: not seen while the head is the same (one read per head and
    // account, whatever the caller's address case), seen once the head moves on.
    await mined(broker.fundDeposit({ value: 500n }));
    expect((await rpc.senderInfo(sender.address.toLowerCase())).deposit).toBe(1_000n);
    await rpc.refresh();
    expect((await rpc.senderInfo(sender.address)).deposit).toBe(1_500n);
  });
});

describe('RpcChainFacts: when the head was read and when it last moved', () => {
  it('counts a read of the same block as a read, not a move; a new block as both', async () => {
    const moved = await rpc.refresh();
    const movedAt = rpc.headAdvancedAt()!;
    await new Promise((r) => setTimeout(r, 20));
    // No block mined since: the RPC answered again with the same one.
    expect((await rpc.refresh()).block).toBe(moved.block);
    expect(rpc.headAdvancedAt()).toBe(movedAt);
    expect(rpc.headReadAt()!).toBeGreaterThan(movedAt);

    await m.fx.anvil.provider.send('anvil_mine', ['0x1']);
    expect((await rpc.refresh()).block).toBe(moved.block + 1n);
    expect(rpc.headAdvancedAt()!).toBeGreaterThan(movedAt);
    expect(rpc.headAdvancedAt()).toBe(rpc.headReadAt());
  });
});
