import { parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WinningTicketStatus } from '#app/database';
import { ORPHAN_MIN_AGE_MS } from '../../../apps/redeemer/src/redemption/redemption.service.js';
import { buildServices, kill9, type ServiceProcess } from '#app/testing';
import { eventually, hashOf } from '../../integration/redeemer/redeemer-fixture.js';
import { redeemerBehindProxy, type RedeemerBehindProxy } from './rpc-outage-harness.js';

/**
 * The built Redeemer as a real process, killed with SIGKILL while it holds a redemption job but
 * cannot have sent its transaction (its chain RPC is cut), restarted once the RPC is back: the
 * ticket ends `redeemed` by exactly one on-chain redemption and one transaction.
 */
describe('Redeemer process: kill -9 before sending, restart', () => {
  let rs: RedeemerBehindProxy;
  let svc: ServiceProcess | undefined;

  beforeAll(async () => {
    buildServices();
    rs = await redeemerBehindProxy('faults-redeemer');
  }, 120_000);

  afterAll(async () => {
    await svc?.stop();
    await rs?.stop();
  });

  it(
    'the job is taken while the RPC is down, the process dies: the restart redeems it once',
    async () => {
      const { fx, proxy, tickets } = rs;
      const sender = await fx.newSender(parseEther('1'));
      const t = await fx.ticket(sender, parseEther('0.01'));
      const fees = await fx.fees();
      svc = await rs.start();
      await proxy.stop();
      await rs.intake.accept(t);
      // The Redeemer picks the job up and fails to reach the chain; give it a few attempts.
      await new Promise((r) => setTimeout(r, 2_000));
      expect(await rs.txCount('pending')).toBe(0);
      await kill9(svc);
      expect(svc.proc.signalCode).toBe('SIGKILL');
      const row = (await tickets.findByHash(hashOf(t)))!;
      expect([WinningTicketStatus.QUEUED, WinningTicketStatus.SUBMITTING]).toContain(row.status);

      await proxy.start();
      svc = await rs.start();
      // Claimed at the kill (submitting), it goes back in line once its claim is ORPHAN_MIN_AGE_MS old.
      await eventually(
        async () => {
          const r = (await tickets.findByHash(hashOf(t)))!;
          return r.status === WinningTicketStatus.REDEEMED ? r : undefined;
        },
        'the ticket to be redeemed',
        ORPHAN_MIN_AGE_MS + 30_000,
      );
      expect((await fx.redeemedHashes()).filter((h) => h === hashOf(t))).toHaveLength(1);
      expect((await fx.fees()) - fees).toBe(t.faceValue);
      expect(await rs.txCount('latest')).toBe(1);
      const txs = await rs.ds.query<{ status: string }[]>(
        `SELECT status FROM chain_tx WHERE $1 = ANY(refs)`,
        [hashOf(t)],
      );
      expect(txs).toEqual([{ status: 'mined' }]);
    },
    60_000 + ORPHAN_MIN_AGE_MS + 30_000,
  );

  it('stops cleanly on SIGTERM', async () => {
    expect(await svc!.stop()).toBe(0);
    svc = undefined;
  });
});
