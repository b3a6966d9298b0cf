import { randomBytes } from 'node:crypto';
import { Wallet, hexlify, parseEther, toQuantity } from 'ethers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WinningTicketStatus } from '#app/database';
import { RedeemerLifecycle } from '../../../apps/redeemer/src/redeemer.lifecycle.js';
import { startInProcessRedeemer, ticketRows, type InProcessRedeemer } from './in-process-redeemer.js';
import { eventually, hashOf, startRedeemerChain, type RedeemerChainFixture } from './redeemer-fixture.js';

const ETH = parseEther('1');

/**
 * Two Redeemers with different keys configured for one recipient: only one serves it (the other
 * would count the senders' funds a second time and race for the tickets); the other waits,
 * visibly, and takes over once the first stops. A replica with the first one's key still stands
 * by on the signer lease, as before.
 */
describe('Redeemer recipient lease', () => {
  let fx: RedeemerChainFixture;
  let redisPrefix: string;
  let first: InProcessRedeemer | undefined;
  let other: InProcessRedeemer | undefined;
  let replica: InProcessRedeemer | undefined;
  let otherSigner: Wallet;

  const lifecycle = (r: InProcessRedeemer | undefined) => r!.app.get(RedeemerLifecycle);
  const { until } = ticketRows(() => first!.tickets);
  const health = async (r: InProcessRedeemer) => {
    const res = await fetch(`${r.url}/health`);
    return {
      status: res.status,
      body: (await res.json()) as { error?: Record<string, { message?: string }> },
    };
  };
  const conflictsMetric = async (r: InProcessRedeemer) =>
    /^redeemer_recipient_conflicts(?:\{[^}]*\})? (\d+)$/m.exec(
      await (await fetch(`${r.url}/metrics`)).text(),
    )?.[1];

  beforeAll(async () => {
    fx = await startRedeemerChain();
    redisPrefix = `${inject('redisPrefix')}redeemer-lease:`;
    otherSigner = new Wallet(hexlify(randomBytes(32)), fx.provider);
    await fx.provider.send('anvil_setBalance', [otherSigner.address, toQuantity(parseEther('100'))]);
    first = await startInProcessRedeemer(fx, redisPrefix, {});
  });

  afterAll(async () => {
    for (const r of [replica, other, first]) await r?.app.close();
    await fx?.stop();
  });

  it('keeps a second signer configured for the same recipient from serving it, and says so', async () => {
    // Its list names the recipient and one nobody serves: all or nothing, it serves neither.
    other = await startInProcessRedeemer(
      fx,
      redisPrefix,
      {
        REDEEMER_PRIVATE_KEY: otherSigner.privateKey,
        REDEEMER_RECIPIENTS: `${hexlify(randomBytes(20))},${fx.recipient.address}`,
      },
      { waitActive: false },
    );
    await eventually(
      () => Promise.resolve(lifecycle(other).state === 'blocked' ? true : undefined),
      'the second signer to be blocked',
    );
    expect(lifecycle(other).recipientConflicts).toEqual([
      { recipient: fx.recipient.address.toLowerCase(), holders: [fx.recipient.address.toLowerCase()] },
    ]);
    const { status, body } = await health(other);
    expect(status).toBe(503);
    expect(body.error?.recipients?.message).toContain(fx.recipient.address.toLowerCase());
    expect(await conflictsMetric(other)).toBe('1');
    expect((await health(first!)).status).toBe(200);
    expect(await conflictsMetric(first!)).toBe('0');
    expect(lifecycle(first).state).toBe('active');

    // The first one alone redeems the recipient's tickets.
    const sender = await fx.newSender(ETH);
    const t = await fx.ticket(sender, ETH / 100n);
    await first!.intake.accept(t);
    await until(t, WinningTicketStatus.REDEEMED);
    const signers = await first!.ds.query<{ signer: string }[]>(
      `SELECT DISTINCT signer FROM chain_tx WHERE $1 = ANY(refs)`,
      [hashOf(t)],
    );
    expect(signers).toEqual([{ signer: fx.recipient.address.toLowerCase() }]);
  });

  it('leaves a replica with the same key standing by on the signer lease, not blocked', async () => {
    replica = await startInProcessRedeemer(fx, redisPrefix, {}, { waitActive: false });
    await eventually(
      () => Promise.resolve(lifecycle(replica).state === 'standby' ? true : undefined),
      'the same-signer replica to stand by',
    );
    expect(lifecycle(replica).recipientConflicts).toEqual([]);
    expect((await health(replica)).status).toBe(200);
    expect(lifecycle(other).state).toBe('blocked');
    await replica.app.close();
    replica = undefined;
  });

  it('hands the recipient over to the other signer once the holder stops', async () => {
    await first!.app.close();
    first = undefined;
    await lifecycle(other).whenActive();
    expect(lifecycle(other).recipientConflicts).toEqual([]);
    expect(await conflictsMetric(other!)).toBe('0');
    expect((await health(other!)).status).toBe(200);

    const sender = await fx.newSender(ETH);
    const t = await fx.ticket(sender, ETH / 100n);
    await other!.intake.accept(t);
    await eventually(async () => {
      const row = await other!.tickets.findByHash(hashOf(t));
      return row?.status === WinningTicketStatus.REDEEMED ? row : undefined;
    }, 'the ticket redeemed by the other signer');
    const signers = await other!.ds.query<{ signer: string }[]>(
      `SELECT DISTINCT signer FROM chain_tx WHERE $1 = ANY(refs)`,
      [hashOf(t)],
    );
    expect(signers).toEqual([{ signer: otherSigner.address.toLowerCase() }]);
  });
});
