import { Logger } from '@nestjs/common';
import {
  JsonRpcProvider,
  Transaction,
  Wallet,
  hexlify,
  parseEther,
  parseUnits,
  randomBytes,
  toQuantity,
} from 'ethers';
import type { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  ChainErrorCode,
  ChainTxStatus,
  NONCE_FILLER,
  RedemptionCalls,
  TxManager,
  TxMaybeStoredError,
  classifyChainError,
  type ChainTxRecord,
  type NewChainTx,
  type TxManagerOptions,
} from '#app/chain';
import { PgTxStore, createDataSource } from '#app/database';
import { toWinningTicketRow } from '#app/queue';
import {
  eventually,
  hashOf,
  redeemDirectly,
  startRedeemerChain,
  type RedeemerChainFixture,
} from './redeemer-fixture.js';

const OPTIONS: TxManagerOptions = {
  confirmations: 1,
  stuckBlocks: 3,
  feeBumpPercent: 20,
  maxReplacements: 5,
  maxGasPrice: 0n,
  pollIntervalMs: 50,
};

/**
 * A test double of the TxStore port, over Postgres: its next `lose` inserts commit and then throw,
 * as when the connection is reset before the commit's answer arrives; with `lookupDown` its
 * look-up by signed hash fails too (the database still unreachable).
 */
class LostAnswerStore extends PgTxStore {
  lose = 0;
  lookupDown = false;

  override async insert(tx: NewChainTx): Promise<ChainTxRecord> {
    const record = await super.insert(tx);
    if (this.lose > 0) {
      this.lose--;
      throw new Error('Connection terminated unexpectedly');
    }
    return record;
  }

  override findSigned(
    chainId: bigint,
    signer: string,
    nonce: bigint,
    hash: string,
  ): Promise<ChainTxRecord | null> {
    if (this.lookupDown) return Promise.reject(new Error('connect ECONNREFUSED'));
    return super.findSigned(chainId, signer, nonce, hash);
  }
}

/**
 * A provider to the same node whose requests can be held where a poll with pending txs begins:
 * `holdNextPoll` lets requests through until the next `eth_blockNumber` (the poll's head read),
 * holds it and every request after it, and resolves; `release` lets them go. What the chain does
 * meanwhile is all that poll sees, from its first read on.
 */
class HeldProvider extends JsonRpcProvider {
  private armed?: () => void;
  private held?: Promise<void>;
  private letGo?: () => void;

  override async send(method: string, params: unknown[] | Record<string, unknown>): Promise<unknown> {
    if (this.armed && method === 'eth_blockNumber') {
      this.held = new Promise((resolve) => (this.letGo = resolve));
      this.armed();
      this.armed = undefined;
    }
    if (this.held) await this.held;
    return super.send(method, params);
  }

  holdNextPoll(): Promise<void> {
    return new Promise((resolve) => (this.armed = resolve));
  }

  release(): void {
    this.held = undefined;
    this.letGo?.();
  }
}

/** The transaction manager and its Postgres nonce source / journal, on anvil. */
describe('TxManager', () => {
  let fx: RedeemerChainFixture;
  let ds: DataSource;
  let store: PgTxStore;
  const managers: TxManager[] = [];

  beforeAll(async () => {
    Logger.overrideLogger(['fatal']);
    fx = await startRedeemerChain();
    ds = await createDataSource(inject('databaseUrl')).initialize();
    store = new PgTxStore(ds);
  });
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.stop()));
    await fx.provider.send('evm_setAutomine', [true]);
  });
  afterAll(async () => {
    await ds?.destroy();
    await fx?.stop();
  });

  async function wallet(eth = parseEther('10')): Promise<Wallet> {
    const w = new Wallet(hexlify(randomBytes(32)), fx.provider);
    if (eth > 0n) await fx.provider.send('anvil_setBalance', [w.address, toQuantity(eth)]);
    return w;
  }

  async function manager(
    w: Wallet,
    options: Partial<TxManagerOptions> = {},
    txStore: PgTxStore = store,
  ): Promise<TxManager> {
    const m = new TxManager(w, fx.provider, txStore, { ...OPTIONS, ...options });
    managers.push(m);
    await m.start();
    return m;
  }

  const transfer = (to = Wallet.createRandom().address) => ({
    purpose: 'test',
    to,
    data: '0x',
    value: 1n,
    gasLimit: 21_000n,
  });

  it('stores, sends and confirms a tx, and keeps the nonce source in step', async () => {
    const w = await wallet();
    const m = await manager(w, { confirmations: 2 });
    const first = await m.send(transfer());
    expect(first).toMatchObject({
      status: ChainTxStatus.PENDING,
      nonce: 0n,
      signer: w.address.toLowerCase(),
    });
    expect(await store.storedNextNonce(m.chain, m.address)).toBe(1n);

    const waiting = m.wait(first.id);
    await new Promise((r) => setTimeout(r, 300));
    expect((await store.get(first.id))!.status).toBe(ChainTxStatus.PENDING); // one confirmation of two
    // Mined (automine), not final: followed, but no longer waiting for block space.
    expect(m.pending().map((r) => r.id)).toEqual([first.id]);
    expect(m.unmined()).toEqual([]);
    await fx.mine(1);
    const { record, receipt } = await waiting;
    expect(record).toMatchObject({
      status: ChainTxStatus.MINED,
      minedHash: first.hashes[0],
      blockNumber: BigInt(receipt!.blockNumber),
      blockHash: receipt!.blockHash,
    });
    expect(record.gasUsed).toBe(21_000n);
    expect(receipt?.status).toBe(1);
    expect(await store.get(first.id)).toEqual(record);

    const second = await m.send(transfer());
    expect(second.nonce).toBe(1n);
    await fx.mine(1);
    expect((await m.wait(second.id)).record.status).toBe(ChainTxStatus.MINED);
  });

  it('reads the mined count again on demand, between polls, for a caller waiting for block space', async () => {
    const w = await wallet();
    // No poll within the test: only refreshMined can show the block.
    const m = await manager(w, { pollIntervalMs: 600_000 });
    await fx.provider.send('evm_setAutomine', [false]);
    const sent = [await m.send(transfer()), await m.send(transfer())];
    expect(m.unmined().map((r) => r.nonce)).toEqual([0n, 1n]);
    await fx.mine(1);
    // Mined, but not known here until the count is read again.
    expect(m.unmined().map((r) => r.nonce)).toEqual([0n, 1n]);
    // Callers at once share one read.
    const read = m.refreshMined();
    expect(m.refreshMined()).toBe(read);
    await read;
    expect(m.unmined()).toEqual([]);
    expect(m.pending().map((r) => r.id)).toEqual(sent.map((r) => r.id));
  });

  it('replaces a stuck tx at the same nonce with bumped fees', async () => {
    const w = await wallet();
    const m = await manager(w);
    await fx.provider.send('evm_setAutomine', [false]);
    const sent = await m.send(transfer());
    // Base fee far above the tx's fee cap: blocks are mined without it.
    await fx.provider.send('anvil_setNextBlockBaseFeePerGas', [toQuantity(parseUnits('500', 'gwei'))]);
    await fx.mine(OPTIONS.stuckBlocks + 1);
    const replaced = await eventually(async () => {
      const r = await store.get(sent.id);
      return r && r.replacements > 0 ? r : undefined;
    }, 'a replacement');
    expect(replaced.nonce).toBe(sent.nonce);
    expect(replaced.maxFeePerGas!).toBeGreaterThan(sent.maxFeePerGas!);
    expect(replaced.hashes[0]).toBe(sent.hashes[0]);

    await fx.mine(1);
    const { record } = await m.wait(sent.id);
    expect(record.status).toBe(ChainTxStatus.MINED);
    expect(record.minedHash).toBe(record.hashes[record.hashes.length - 1]);
    expect(record.minedHash).not.toBe(sent.hashes[0]);
    expect(await fx.provider.getTransactionCount(w.address, 'latest')).toBe(1);
  });

  it('broadcasts a tx that was stored but never sent (crash in between) when it starts again', async () => {
    const w = await wallet();
    const chainId = (await fx.provider.getNetwork()).chainId;
    const fee = await fx.provider.getFeeData();
    const raw = await w.signTransaction({
      ...transfer(),
      type: 2,
      chainId,
      nonce: 0,
      maxFeePerGas: fee.maxFeePerGas,
      maxPriorityFeePerGas: fee.maxPriorityFeePerGas,
    });
    const stored = await store.insert({
      chainId,
      signer: w.address.toLowerCase(),
      nonce: 0n,
      purpose: 'test',
      to: transfer().to.toLowerCase(),
      data: '0x',
      value: 1n,
      gasLimit: 21_000n,
      refs: [],
      hash: Transaction.from(raw).hash!,
      rawTx: raw,
      sentBlock: await fx.blockNumber(),
      maxFeePerGas: fee.maxFeePerGas,
      maxPriorityFeePerGas: fee.maxPriorityFeePerGas,
      gasPrice: null,
    });
    expect(await fx.provider.getTransaction(stored.hashes[0])).toBeNull();

    const m = await manager(w);
    expect(m.pending().map((t) => t.id)).toEqual([stored.id]);
    const { record } = await m.wait(stored.id);
    expect(record).toMatchObject({ status: ChainTxStatus.MINED, minedHash: stored.hashes[0] });
    expect(m.nextNonce()).toBe(1n);
  });

  it('follows a tx whose insert committed though its answer was lost, as if the insert had answered', async () => {
    const lossy = new LostAnswerStore(ds);
    const w = await wallet();
    const m = await manager(w, {}, lossy);
    lossy.lose = 1;
    const sent = await m.send(transfer());
    expect(m.pending().map((t) => t.id)).toEqual([sent.id]);
    expect((await m.wait(sent.id)).record).toMatchObject({ status: ChainTxStatus.MINED, nonce: 0n });
    const next = await m.send(transfer());
    expect(next.nonce).toBe(1n);
    expect((await m.wait(next.id)).record.status).toBe(ChainTxStatus.MINED);
  });

  it('says a send may have stored its tx when the insert and the look-up both fail, then follows and broadcasts the stored tx', async () => {
    const lossy = new LostAnswerStore(ds);
    const w = await wallet();
    const m = await manager(w, {}, lossy);
    lossy.lose = 1;
    lossy.lookupDown = true;
    const failed = await m.send(transfer()).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(TxMaybeStoredError);
    lossy.lookupDown = false;
    const [stored] = await store.listOpen((await fx.provider.getNetwork()).chainId, w.address.toLowerCase());
    expect(stored.nonce).toBe(0n);

    // The poll loop follows it (it never reached the node: broadcast now), and no later send takes its nonce.
    await eventually(
      () => Promise.resolve(m.pending().some((t) => t.id === stored.id) ? true : undefined),
      'the stored tx followed',
    );
    expect((await m.wait(stored.id)).record).toMatchObject({
      status: ChainTxStatus.MINED,
      minedHash: stored.hashes[0],
    });
    const next = await m.send(transfer());
    expect(next.nonce).toBe(1n);
    expect((await m.wait(next.id)).record.status).toBe(ChainTxStatus.MINED);
  });

  it('says a send failed before storing anything with a plain error', async () => {
    const m = await manager(await wallet());
    await m.stop();
    const failed = await m.send(transfer()).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(Error);
    expect(failed).not.toBeInstanceOf(TxMaybeStoredError);
  });

  it('gives the nonce back when the node refuses a tx for good (signer cannot pay)', async () => {
    const w = await wallet(0n);
    const m = await manager(w);
    const refused = await m.send(transfer());
    const { record } = await m.wait(refused.id);
    expect(record).toMatchObject({
      status: ChainTxStatus.DROPPED,
      errorCode: ChainErrorCode.SIGNER_INSUFFICIENT_FUNDS,
    });

    await fx.provider.send('anvil_setBalance', [w.address, toQuantity(parseEther('1'))]);
    const retried = await m.send(transfer());
    expect(retried.nonce).toBe(refused.nonce);
    expect((await m.wait(retried.id)).record.status).toBe(ChainTxStatus.MINED);
  });

  it('keeps several txs in flight with consecutive nonces, and fills a nonce gap a refused tx leaves below them', async () => {
    const w = await wallet();
    const m = await manager(w);
    await fx.provider.send('evm_setAutomine', [false]);
    const sent = [
      await m.send({ ...transfer(), value: parseEther('5') }),
      await m.send(transfer()),
      await m.send(transfer()),
    ];
    expect(sent.map((r) => r.nonce)).toEqual([0n, 1n, 2n]);
    expect(m.pending().map((r) => r.nonce)).toEqual([0n, 1n, 2n]);
    expect(m.unmined().map((r) => r.nonce)).toEqual([0n, 1n, 2n]);

    // The signer can no longer afford nonce 0's 5 ETH, and the node forgets it (anvil drops the
    // txs above it too): on re-broadcast nonce 0 is refused for good while 1 and 2 are taken
    // back, and they can never be mined until something takes nonce 0. The balance is set before
    // the drop and never below what 1, 2 and a filler cost, so no poll tick can refuse them too.
    await fx.provider.send('anvil_setBalance', [w.address, toQuantity(parseEther('1'))]);
    await fx.provider.send('anvil_dropTransaction', [sent[0].hashes[0]]);
    expect((await m.wait(sent[0].id)).record).toMatchObject({
      status: ChainTxStatus.DROPPED,
      errorCode: ChainErrorCode.SIGNER_INSUFFICIENT_FUNDS,
    });
    const filler = await eventually(async () => {
      const rows = await ds.query<
        { id: string; nonce: string; purpose: string; to: string; value: string }[]
      >(
        `SELECT id, nonce, purpose, to_address AS "to", value FROM chain_tx WHERE signer = $1 AND purpose = $2 AND status <> 'dropped'`,
        [w.address.toLowerCase(), NONCE_FILLER],
      );
      return rows.length > 0 ? rows : undefined;
    }, 'the nonce filler');
    expect(filler).toEqual([
      { id: filler[0].id, nonce: '0', purpose: NONCE_FILLER, to: w.address.toLowerCase(), value: '0' },
    ]);

    await fx.provider.send('evm_mine', []);
    for (const r of [...sent.slice(1)]) expect((await m.wait(r.id)).record.status).toBe(ChainTxStatus.MINED);
    expect((await m.wait(filler[0].id)).record.status).toBe(ChainTxStatus.MINED);
    expect(m.nextNonce()).toBe(3n);
  });

  it("stores the judged head's L1 block with the tx, and reads back the signer's last mined L1 blocks", async () => {
    const w = await wallet();
    const m = await manager(w);
    const other = await manager(await wallet());
    const head = await fx.blockNumber();
    // Judged and mined, judged and reverted (a delay all the same), and one without a judged head.
    const judged = await m.send({ ...transfer(), judgedL1Block: head });
    const reverted = await m.send({
      purpose: 'test',
      to: fx.protocol.addresses.ticketBroker,
      data: '0xdeadbeef',
      gasLimit: 100_000n,
      judgedL1Block: head + 1n,
    });
    const unjudged = await m.send(transfer());
    const elsewhere = await other.send({ ...transfer(), judgedL1Block: head });
    expect(judged.judgedL1Block).toBe(head);
    expect(unjudged.judgedL1Block).toBeNull();
    const results = await Promise.all([judged, reverted, unjudged].map((t) => m.wait(t.id)));
    expect(results.map((r) => r.record.status)).toEqual([
      ChainTxStatus.MINED,
      ChainTxStatus.REVERTED,
      ChainTxStatus.MINED,
    ]);
    await other.wait(elsewhere.id);
    // Nothing is read back before the mined L1 block is recorded.
    expect(await store.recentMinedL1Blocks(m.chain, m.address, 128)).toEqual([]);

    for (const [i, { record }] of results.entries()) {
      await store.recordMinedL1Block(record.id, record.blockNumber! + BigInt(i));
    }
    await store.recordMinedL1Block(elsewhere.id, 1n);
    expect((await store.get(judged.id))!.minedL1Block).toBe(results[0].record.blockNumber);
    const [mined, revertedRecord] = results.map((r) => r.record);
    // Oldest first; the unjudged tx has no delay, the other signer's and another chain's are not this signer's.
    expect(await store.recentMinedL1Blocks(m.chain, m.address, 128)).toEqual([
      { judgedL1Block: head, minedL1Block: mined.blockNumber },
      { judgedL1Block: head + 1n, minedL1Block: revertedRecord.blockNumber! + 1n },
    ]);
    expect(await store.recentMinedL1Blocks(m.chain, m.address, 1)).toEqual([
      { judgedL1Block: head + 1n, minedL1Block: revertedRecord.blockNumber! + 1n },
    ]);
    expect(await store.recentMinedL1Blocks(m.chain + 1n, m.address, 128)).toEqual([]);
  });

  it('classifies node errors once into stable codes', async () => {
    const w = await wallet();
    const m = await manager(w);
    const sent = await m.send(transfer());
    await m.wait(sent.id);
    const stale = await fx.provider.broadcastTransaction(sent.rawTx).catch((e: unknown) => e);
    expect(classifyChainError(stale)).toMatchObject({ code: ChainErrorCode.NONCE_TOO_LOW, retryable: true });

    const calls = new RedemptionCalls(
      fx.provider,
      fx.protocol.addresses.ticketBroker,
      fx.protocol.addresses.bondingManager,
    );
    const sender = await fx.newSender(parseEther('1'));
    const ticket = toWinningTicketRow(await fx.ticket(sender, 1000n));
    const sim = await calls.simulate(
      w.address,
      calls.brokerAddress,
      calls.encodeRedeem({ ...ticket, recipientRand: 1n }),
    );
    expect(sim.ok).toBe(false);
    if (!sim.ok) {
      expect(sim.error).toMatchObject({ code: ChainErrorCode.REVERTED, retryable: false });
      expect(sim.error.revert?.reason).toBe('recipientRand does not match recipientRandHash');
    }
    const ok = await calls.simulate(w.address, calls.brokerAddress, calls.encodeRedeem(ticket));
    expect(ok.ok && ok.gas > 21_000n).toBe(true);
  });

  // The final-tx watch's anchoring: a tx that went final since the last poll, however high its
  // block, has not been seen on one chain with the others, so it vouches for no block below it.
  it('reads the block of an older final tx itself when a later tx goes final at the poll that first sees a reorganisation', async () => {
    const w = await wallet();
    const held = new HeldProvider(fx.anvil.url, await fx.provider.getNetwork(), {
      staticNetwork: true,
      pollingInterval: 50,
      cacheTimeout: -1,
    });
    const m = new TxManager(w, held, store, { ...OPTIONS, confirmations: 2 });
    managers.push(m);
    await m.start();
    try {
      const a = await m.send(transfer());
      await fx.mine(2);
      const first = (await m.wait(a.id)).record;
      const height = first.blockNumber!;
      await fx.mine(3);
      // Polls with nothing pending see A's block on chain with the others: A is anchored.
      await new Promise((resolve) => setTimeout(resolve, 400));

      await fx.provider.send('evm_setAutomine', [false]);
      const b = await m.send(transfer());
      const rawA = (await store.get(a.id))!.rawTx;
      // One step, between two polls: A mined again at its height in a block of other content, B
      // one block above it and confirmed at once.
      await held.holdNextPoll();
      const depth = (await fx.blockNumber()) - (height - 1n);
      const filler = await fx.owner.signTransaction({
        to: fx.owner.address,
        value: 0n,
        gasLimit: 21_000n,
        nonce: await fx.provider.getTransactionCount(fx.owner.address, 'latest'),
        chainId: (await fx.provider.getNetwork()).chainId,
        type: 2,
        maxFeePerGas: parseUnits('100', 'gwei'),
        maxPriorityFeePerGas: 1n,
      });
      await fx.provider.send('anvil_reorg', [
        Number(depth),
        [
          [filler, 0],
          [rawA, 0],
          [b.rawTx, 1],
        ],
      ]);
      const moved = (await fx.provider.getBlock(height))!.hash;
      expect(moved).not.toBe(first.blockHash);
      held.release();

      // B is final at that poll; A's changed block is found all the same, and A settled from it.
      const again = await eventually(async () => {
        const row = await store.get(a.id);
        return row?.status === ChainTxStatus.MINED && row.blockHash === moved ? row : undefined;
      }, "A's row settled again from its new block");
      expect(again.blockNumber).toBe(height);
      expect(await store.get(b.id)).toMatchObject({ status: ChainTxStatus.MINED, blockNumber: height + 1n });
    } finally {
      held.release();
      await m.stop();
      held.destroy();
    }
  });

  it("decides a batch's tickets from its WinningTicketRedeemed logs (a bad ticket does not revert it)", async () => {
    const calls = new RedemptionCalls(
      fx.provider,
      fx.protocol.addresses.ticketBroker,
      fx.protocol.addresses.bondingManager,
    );
    const sender = await fx.newSender(parseEther('1'));
    const signed = [
      await fx.ticket(sender, 1000n),
      await fx.ticket(sender, 2000n),
      await fx.ticket(sender, 3000n),
    ];
    await redeemDirectly(fx, signed[1]);
    const rows = signed.map(toWinningTicketRow);
    const receipt = await (
      await fx.owner.sendTransaction({
        to: calls.brokerAddress,
        data: calls.encodeBatchRedeem(rows),
        gasLimit: 2_000_000,
      })
    ).wait();
    expect(receipt!.status).toBe(1);
    const redeemed = calls.redeemedIn(receipt!);
    expect([...redeemed.keys()].sort()).toEqual([hashOf(signed[0]), hashOf(signed[2])].sort());
    expect(redeemed.get(hashOf(signed[0]))).toMatchObject({ faceValue: 1000n, amountPaid: 1000n });
    expect(redeemed.get(hashOf(signed[2]))).toMatchObject({ faceValue: 3000n, amountPaid: 3000n });
  });
});
