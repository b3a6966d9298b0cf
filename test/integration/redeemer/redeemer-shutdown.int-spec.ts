import { parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedemptionWorker } from '#app/queue';
import { RedemptionService } from '../../../apps/redeemer/src/redemption/redemption.service.js';
import { startInProcessRedeemer, type InProcessRedeemer } from './in-process-redeemer.js';
import { eventually, hashOf, startRedeemerChain, type RedeemerChainFixture } from './redeemer-fixture.js';

const OPS_TOKEN = 'redeemer-shutdown-ops-token-0123456789';

/**
 * Shutdown of a Redeemer with an /ops call in flight: its HTTP server takes no new request from
 * the start of the shutdown, and the call is answered before the workers stop.
 */
describe('Redeemer shutdown with an /ops call in flight', () => {
  let fx: RedeemerChainFixture;
  let redeemer: InProcessRedeemer | undefined;
  let closed = false;

  beforeAll(async () => {
    fx = await startRedeemerChain();
    redeemer = await startInProcessRedeemer(fx, `${inject('redisPrefix')}redeemer-shutdown:`, {
      REDEEMER_OPS_TOKEN: OPS_TOKEN,
    });
  });

  afterAll(async () => {
    if (!closed) await redeemer?.app.close();
    await fx?.stop();
  });

  it('refuses new requests, answers the call in flight, then stops the workers', async () => {
    const { app, url, intake } = redeemer!;
    // A ticket whose params are far from expiry: it waits, and redeem-now has something to do.
    const t = await fx.ticket(await fx.newSender(parseEther('1')), parseEther('1') / 100n, {
      expirationBlock: 1_000_000_000n,
    });
    await intake.accept(t);

    const order: string[] = [];
    const worker = app.get(RedemptionWorker);
    const close = worker.close.bind(worker);
    worker.close = () => {
      order.push('workers stopped');
      return close();
    };
    // The redeem-now call stays in flight until the test lets it go on.
    const redemptions = app.get(RedemptionService);
    const redeemNow = redemptions.redeemNow.bind(redemptions);
    let reached!: () => void;
    const inFlight = new Promise<void>((r) => (reached = r));
    let goOn!: () => void;
    const gate = new Promise<void>((r) => (goOn = r));
    redemptions.redeemNow = async (...args) => {
      reached();
      await gate;
      return redeemNow(...args);
    };

    const call = fetch(`${url}/ops/tickets/${hashOf(t)}/redeem`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${OPS_TOKEN}` },
      body: '{}',
    }).then(async (res) => {
      order.push('ops call answered');
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    });
    await inFlight;
    const closing = app.close().then(() => (closed = true));
    try {
      // From now on a new request finds no server.
      await eventually(
        () =>
          fetch(`${url}/health`, { headers: { connection: 'close' } }).then(
            () => undefined,
            () => true,
          ),
        'the HTTP server to refuse new requests',
        10_000,
      );
      expect(order).toEqual([]);
    } finally {
      // Never left hanging, the test failed or not.
      goOn();
    }
    expect(await call).toMatchObject({ status: 202, body: { ticketHash: hashOf(t) } });
    await closing;
    expect(order).toEqual(['ops call answered', 'workers stopped']);
  });
});
