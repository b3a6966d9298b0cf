import { parseEther, toQuantity, type Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteSenderMonitor, type MaxFloatChange } from '#app/clients';
import { mined } from '../contracts/protocol-fixture.js';
import {
  chainEventCounts,
  eventually,
  expectReplayedFromLogs,
  metric,
  Recorder,
  startMonitor,
  type MonitorUnderTest,
} from './harness.js';

// The chain endpoint goes away and comes back: the watcher reconnects and replays the blocks it
// missed, or re-reads its senders when the gap is too long; a reorganisation is re-read too. And
// the other end of a sender's life in the monitor: eviction after the TTL.

const ETH = parseEther('1');

let m: MonitorUnderTest;
let client: RemoteSenderMonitor;
let r0: string;
const recorders: Recorder<MaxFloatChange>[] = [];

beforeAll(async () => {
  m = await startMonitor('rpc-outage-spec', {
    SENDER_MONITOR_SENDER_TTL_SECONDS: '1',
    SENDER_MONITOR_CLEANUP_INTERVAL_SECONDS: '1',
    SENDER_MONITOR_MAX_BACKFILL_BLOCKS: '100',
  });
  client = new RemoteSenderMonitor({ target: m.grpcUrl });
  r0 = m.fx.recipients[0].address.toLowerCase();
});
afterAll(async () => {
  for (const r of recorders) r.close();
  client?.close();
  await m?.stop();
});

function watch(sender: Wallet): Recorder<MaxFloatChange> {
  const r = new Recorder(client.changes(sender.address, r0));
  recorders.push(r);
  return r;
}

async function fundedSender(reserve: bigint): Promise<Wallet> {
  const sender = await m.fx.newAccount();
  await mined(m.fx.brokerAs(sender).fundReserve({ value: reserve }));
  return sender;
}

describe('sender-monitor: RPC outage and sender lifetime', () => {
  it('after the RPC endpoint goes away and comes back, the cache catches up from the missed blocks', async () => {
    const sender = await fundedSender(ETH);
    const w = watch(sender);
    await w.next((c) => c.maxFloat === parseEther('0.5'));
    await m.caughtUp();
    const before = await chainEventCounts(m.httpUrl);

    await m.proxy.stop();
    // Straight to anvil while the monitor cannot see it: more reserve, and a new round.
    await mined(m.fx.brokerAs(sender).fundReserve({ value: ETH }));
    const round = await m.fx.nextRound();
    await eventually(
      () => metric(m.httpUrl, 'sender_monitor_rpc_consecutive_failures'),
      (n) => (n ?? 0) >= 3,
    );
    expect(w.unread()).toEqual([]);

    await m.proxy.start();
    const caught = await w.next((c) => c.maxFloat === ETH);
    expect(caught.validity.valid).toBe(true);
    await m.caughtUp();
    expect((await client.senderInfo(sender.address)).lastInitializedRound).toBe(round);

    // Replayed from the logs of the missed blocks, not re-read.
    await expectReplayedFromLogs(m.httpUrl, before);
    expect(await metric(m.httpUrl, 'sender_monitor_resyncs_total', 'reason="reorg"')).toBe(0);
    expect(await metric(m.httpUrl, 'sender_monitor_rpc_consecutive_failures')).toBe(0);
    expect(await metric(m.httpUrl, 'sender_monitor_chain_head_lag_blocks')).toBe(0);
  });

  it('forgets a sender nobody asked about for the TTL, but not one with an open stream', async () => {
    const idle = await fundedSender(ETH);
    const cached = await fundedSender(ETH);
    const watched = await fundedSender(ETH);
    const w = watch(watched);
    await w.next((c) => c.maxFloat === parseEther('0.5'));
    await m.caughtUp();
    expect((await client.senderInfo(idle.address)).recipients[0].maxFloat).toBe(parseEther('0.5'));
    // RemoteSenderMonitor keeps a stream open behind a cached max float until it is idle itself.
    const shortLived = new RemoteSenderMonitor({ target: m.grpcUrl, idleTtlMs: 1_000 });
    try {
      expect(await shortLived.maxFloat(cached.address, r0)).toBe(parseEther('0.5'));
      const series = (s: Wallet) => `sender="${s.address.toLowerCase()}"`;
      for (const s of [idle, cached]) {
        await eventually(
          () => metric(m.httpUrl, 'ticketpay_max_float_wei', series(s)),
          (v) => v !== undefined,
        );
      }
      for (const s of [idle, cached]) {
        await eventually(
          () => metric(m.httpUrl, 'ticketpay_max_float_wei', series(s)),
          (v) => v === undefined,
        );
        expect(m.watcher.cache.peek(s.address)).toBeUndefined();
      }
      expect(await metric(m.httpUrl, 'ticketpay_max_float_wei', series(watched))).toBe(0.5e18);
      // One series owns a sender's max float for a recipient (the shared go-livepeer-style one).
      const scrape = await (await fetch(`${m.httpUrl}/metrics`)).text();
      const pair = [series(watched), `recipient="${r0}"`];
      const maxFloatSeries = scrape
        .split('\n')
        .filter((line) => pair.every((label) => line.includes(label)) && line.endsWith(` ${0.5e18}`));
      expect(maxFloatSeries).toEqual([expect.stringMatching(/^ticketpay_max_float_wei\{/)]);
      // Likewise the gas price: the shared series only.
      expect(scrape).toMatch(/^ticketpay_gas_price_wei\{service="sender-monitor"\} [1-9]\d*$/m);
      expect(scrape).not.toMatch(/^sender_monitor_gas_price_wei/m);
      expect(m.watcher.cache.peek(watched.address)).toBeDefined();
    } finally {
      shortLived.close();
    }
  });

  it('re-reads the cached senders when the gap is longer than the back-fill limit', async () => {
    const sender = await fundedSender(ETH);
    const w = watch(sender);
    await w.next((c) => c.maxFloat === parseEther('0.5'));
    await m.caughtUp();

    await m.proxy.stop();
    await mined(m.fx.brokerAs(sender).fundReserve({ value: ETH }));
    await m.fx.anvil.provider.send('anvil_mine', [toQuantity(150)]);
    await m.proxy.start();

    await w.next((c) => c.maxFloat === ETH);
    expect(await metric(m.httpUrl, 'sender_monitor_resyncs_total', 'reason="gap"')).toBe(1);
  });

  it('re-reads everything after a reorganisation, dropping what the lost blocks did', async () => {
    const sender = await fundedSender(ETH);
    const w = watch(sender);
    await w.next((c) => c.maxFloat === parseEther('0.5'));
    await m.caughtUp();
    const snapshot = (await m.fx.anvil.provider.send('evm_snapshot', [])) as string;

    await mined(m.fx.brokerAs(sender).fundReserve({ value: ETH }));
    await w.next((c) => c.maxFloat === ETH);
    await m.caughtUp();

    // The funding block is replaced by other blocks at the same heights.
    await m.fx.anvil.provider.send('evm_revert', [snapshot]);
    await m.fx.anvil.provider.send('anvil_mine', [toQuantity(3)]);
    const back = await w.next((c) => c.maxFloat === parseEther('0.5'));
    expect(back.reason).toBe('ROUND');
    expect(await metric(m.httpUrl, 'sender_monitor_resyncs_total', 'reason="reorg"')).toBe(1);
  });
});
