import { parseEther, toQuantity } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteSenderMonitor, type MaxFloatChange } from '#app/clients';
import { mined } from '../contracts/protocol-fixture.js';
import {
  chainEventCounts,
  expectReplayedFromLogs,
  metric,
  Recorder,
  startMonitor,
  type MonitorUnderTest,
} from './harness.js';

// The chain RPC is an ordinary provider that refuses eth_getLogs spans wider than a few blocks
// (Ankr's wording): the watcher replays a gap of many blocks from the logs all the same, in spans of
// at most ETH_LOGS_MAX_BLOCKS, each refused one asked again in halves.

const ETH = parseEther('1');
const PROVIDER_LOG_SPAN = 8;
const LOGS_MAX_BLOCKS = 16;
const GAP_BLOCKS = 40;

let m: MonitorUnderTest;
let client: RemoteSenderMonitor;
const recorders: Recorder<MaxFloatChange>[] = [];

beforeAll(async () => {
  m = await startMonitor(
    'log-range-spec',
    { ETH_LOGS_MAX_BLOCKS: String(LOGS_MAX_BLOCKS) },
    { jsonRpcProxy: true },
  );
  m.rpc!.capLogSpan(PROVIDER_LOG_SPAN, { code: -32600, message: 'block range is too wide' });
  client = new RemoteSenderMonitor({ target: m.grpcUrl });
});
afterAll(async () => {
  for (const r of recorders) r.close();
  client?.close();
  await m?.stop();
});

describe('sender-monitor: a provider capping eth_getLogs spans', () => {
  it('replays a gap far wider than the cap from the logs, in narrower spans, without a resync', async () => {
    const r0 = m.fx.recipients[0].address.toLowerCase();
    const sender = await m.fx.newAccount();
    await mined(m.fx.brokerAs(sender).fundReserve({ value: ETH }));
    const w = new Recorder(client.changes(sender.address, r0));
    recorders.push(w);
    await w.next((c) => c.maxFloat === parseEther('0.5'));
    await m.caughtUp();
    const before = await chainEventCounts(m.httpUrl);

    // Unseen by the monitor: more reserve, a new round, and many blocks after them.
    await m.proxy.stop();
    await mined(m.fx.brokerAs(sender).fundReserve({ value: ETH }));
    const round = await m.fx.nextRound();
    await m.fx.anvil.provider.send('anvil_mine', [toQuantity(GAP_BLOCKS)]);
    const spansBefore = m.rpc!.logSpans.length;
    const refusedBefore = m.rpc!.refusedLogs;
    await m.proxy.start();

    expect((await w.next((c) => c.maxFloat === ETH)).validity.valid).toBe(true);
    await m.caughtUp();
    expect((await client.senderInfo(sender.address)).lastInitializedRound).toBe(round);
    // Replayed from the logs of the missed blocks (no resync), after the provider refused spans.
    await expectReplayedFromLogs(m.httpUrl, before);
    expect(m.rpc!.refusedLogs).toBeGreaterThan(refusedBefore);
    // Never wider than ETH_LOGS_MAX_BLOCKS, though the gap was.
    const spans = m.rpc!.logSpans.slice(spansBefore);
    expect(spans.some((s) => s === BigInt(LOGS_MAX_BLOCKS))).toBe(true);
    expect(spans.every((s) => s <= BigInt(LOGS_MAX_BLOCKS))).toBe(true);
    expect(await metric(m.httpUrl, 'sender_monitor_rpc_consecutive_failures')).toBe(0);
  });
});
