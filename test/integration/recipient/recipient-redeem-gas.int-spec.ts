import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ticketParamsCodec } from '#app/proto';
import { issue, startHarness, type RecipientHarness } from './recipient-fixture.js';

// The redemption gas face values are priced with, on a chain whose id is Arbitrum One's (anvil
// started with it): go-livepeer's L2 figure unless RECIPIENT_REDEEM_GAS says otherwise. The dev
// chain's id takes the L1 figure (recipient-payments.int-spec).

const FLOOR = 10_000_000_000n;

describe("Recipient: redemption gas by the chain's id", () => {
  let h: RecipientHarness;

  beforeAll(async () => {
    h = await startHarness('recipient-redeem-gas', { chainId: 42161 });
  });
  afterAll(() => h?.stop());

  /** The face value issued under `env`, with the gas price at the floor. */
  async function faceValueUnder(env: Record<string, string>): Promise<bigint> {
    const r = await h.boot({ ETH_MIN_GAS_PRICE: FLOOR.toString(), ...env });
    try {
      return ticketParamsCodec.fromMessage((await issue(r, await h.newSender())).ticketParams).faceValue;
    } finally {
      await r.close();
    }
  }

  it('prices a redemption at 1,200,000 gas on Arbitrum One unless told otherwise', async () => {
    expect((await h.anvil.provider.getFeeData()).gasPrice! < FLOOR).toBe(true);
    // Redeem gas × the floor × the tx cost multiplier 100.
    expect(await faceValueUnder({})).toBe(1_200_000n * FLOOR * 100n);
    expect(await faceValueUnder({ RECIPIENT_REDEEM_GAS: '500000' })).toBe(500_000n * FLOOR * 100n);
  });
});
