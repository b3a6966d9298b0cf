import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ticketParamsCodec } from '#app/proto';
import { startJsonRpcProxy, type JsonRpcProxy } from '../../support/json-rpc-proxy.js';
import { issue, startHarness, type RecipientHarness } from './recipient-fixture.js';

// The redemption gas face values are priced with follows the chain's kind, told by its blocks as
// the L1 block source tells it: behind a proxy writing each block as an Arbitrum node does (its
// `l1BlockNumber`), go-livepeer's L2 figure; on anvil as it is, its L1 figure; a configured
// RECIPIENT_REDEEM_GAS over both.

const FLOOR = 10_000_000_000n;

describe("Recipient: redemption gas by the chain's kind", () => {
  let h: RecipientHarness;
  let arbitrum: JsonRpcProxy;

  beforeAll(async () => {
    h = await startHarness('recipient-redeem-gas');
    arbitrum = await startJsonRpcProxy(h.anvil.url);
    arbitrum.editBlocks((block) => {
      block.l1BlockNumber = block.number;
    });
  });
  afterAll(async () => {
    await arbitrum?.stop();
    await h?.stop();
  });

  /** The face value issued under `env`, with the gas price at the floor. */
  async function faceValueUnder(env: Record<string, string>): Promise<bigint> {
    const r = await h.boot({ ETH_MIN_GAS_PRICE: FLOOR.toString(), ...env });
    try {
      return ticketParamsCodec.fromMessage((await issue(r, await h.newSender())).ticketParams).faceValue;
    } finally {
      await r.close();
    }
  }

  it('prices a redemption at 1,200,000 gas on an Arbitrum chain, 350,000 elsewhere, unless told otherwise', async () => {
    expect((await h.anvil.provider.getFeeData()).gasPrice! < FLOOR).toBe(true);
    // Redeem gas × the floor × the tx cost multiplier 100.
    expect(await faceValueUnder({ ETH_RPC_URL: arbitrum.url })).toBe(1_200_000n * FLOOR * 100n);
    expect(await faceValueUnder({})).toBe(350_000n * FLOOR * 100n);
    expect(await faceValueUnder({ ETH_RPC_URL: arbitrum.url, RECIPIENT_REDEEM_GAS: '500000' })).toBe(
      500_000n * FLOOR * 100n,
    );
  });
});
