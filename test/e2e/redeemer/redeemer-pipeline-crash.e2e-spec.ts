import { parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WinningTicketStatus } from '#app/database';
import { ORPHAN_MIN_AGE_MS } from '../../../apps/redeemer/src/redemption/redemption.service.js';
import type { SignedTicket } from '#app/ticket';
import { buildServices, freePort, kill9, type ServiceProcess } from '#app/testing';
import {
  eventually,
  hashOf,
  startRedeemerChain,
  type RedeemerChainFixture,
} from '../../integration/redeemer/redeemer-fixture.js';
import {
  redeemerEnv,
  redeemerIntake,
  startActiveRedeemer,
  type RedeemerIntake,
} from '../support/redeemer-process.js';

const CENTI = parseEther('0.01');
/**
 * A ticket claimed but not yet in a stored tx at the kill goes back in line only once its claim is
 * ORPHAN_MIN_AGE_MS old (a batch may still be storing its tx): waits for a ticket allow for that.
 */
const REDEEMED_WITHIN_MS = ORPHAN_MIN_AGE_MS + 30_000;

/**
 * The built Redeemer as a real process with several redemption txs of its signer in flight (one
 * ticket per tx), killed with SIGKILL and restarted: every ticket must end `redeemed` by exactly
 * one on-chain redemption and one mined tx, and no nonce is used twice or skipped.
 */
describe('Redeemer process: kill -9 with several txs in flight', () => {
  let fx: RedeemerChainFixture;
  let handover: RedeemerIntake;
  let env: Record<string, string>;
  let svc: ServiceProcess | undefined;

  beforeAll(async () => {
    buildServices();
    fx = await startRedeemerChain();
    const redisPrefix = `${inject('redisPrefix')}redeemer-pipeline-crash:`;
    handover = await redeemerIntake(inject('databaseUrl'), redisPrefix);
    env = {
      ...redeemerEnv(fx, {
        databaseUrl: inject('databaseUrl'),
        redisPrefix,
        rpcUrl: fx.anvil.url,
        httpPort: await freePort(),
        retryMaxMs: 2_000,
      }),
      REDEEMER_BATCH_MAX_SIZE: '1',
    };
  });

  afterAll(async () => {
    await svc?.stop();
    await handover?.close();
    await fx?.stop();
  });

  const txCount = async (tag: 'latest' | 'pending') =>
    Number(await fx.provider.send('eth_getTransactionCount', [fx.recipient.address, tag]));

  /** Accepts the tickets with mining paused and kills the Redeemer once `inFlight` txs are pending. */
  async function acceptAndKillWithTxsInFlight(
    proc: ServiceProcess,
    batch: SignedTicket[],
    inFlight: number,
  ): Promise<void> {
    const mined = await txCount('latest');
    await fx.provider.send('evm_setAutomine', [false]);
    for (const t of batch) await handover.intake.accept(t);
    await eventually(
      async () => ((await txCount('pending')) >= mined + inFlight ? true : undefined),
      `${inFlight} redemption txs in flight`,
      30_000,
      5,
    );
    await kill9(proc);
    expect(proc.proc.signalCode).toBe('SIGKILL');
    expect(await txCount('pending')).toBeGreaterThanOrEqual(mined + inFlight);
  }

  /** Every ticket redeemed once on chain, by its one mined tx, and the signer's nonces all used by stored txs. */
  async function redeemedOnce(batch: SignedTicket[]): Promise<void> {
    for (const t of batch) {
      const row = await eventually(
        async () => {
          const r = (await handover.tickets.findByHash(hashOf(t)))!;
          return r.status === WinningTicketStatus.REDEEMED ? r : undefined;
        },
        `ticket ${hashOf(t)} to be redeemed`,
        REDEEMED_WITHIN_MS,
      );
      const txs = await handover.ds.query<{ status: string; mined_hash: string }[]>(
        `SELECT status, mined_hash FROM chain_tx WHERE $1 = ANY(refs)`,
        [hashOf(t)],
      );
      expect(txs).toEqual([{ status: 'mined', mined_hash: row.txHash }]);
    }
    const redeemed = await fx.redeemedHashes();
    for (const t of batch) expect(redeemed.filter((h) => h === hashOf(t))).toHaveLength(1);
    const nonces = await handover.ds.query<{ nonce: string }[]>(
      `SELECT nonce FROM chain_tx WHERE signer = $1 AND status = 'mined' ORDER BY nonce`,
      [fx.recipient.address.toLowerCase()],
    );
    const latest = await txCount('latest');
    expect(nonces.map((n) => Number(n.nonce))).toEqual(Array.from({ length: latest }, (_, i) => i));
  }

  it(
    'the txs are mined while the process is dead: the restart settles each, sends nothing again',
    async () => {
      const a = await fx.newSender(parseEther('1'));
      const b = await fx.newSender(parseEther('1'));
      const batch = [
        await fx.ticket(a, CENTI),
        await fx.ticket(b, 2n * CENTI),
        await fx.ticket(a, 3n * CENTI),
        await fx.ticket(b, 4n * CENTI),
      ];
      const fees = await fx.fees();
      svc = await startActiveRedeemer(env);
      await acceptAndKillWithTxsInFlight(svc, batch, 3);

      await fx.provider.send('evm_mine', []);
      await fx.provider.send('evm_setAutomine', [true]);
      const minedWhileDead = await txCount('latest');
      svc = await startActiveRedeemer(env);
      await redeemedOnce(batch);
      expect((await fx.fees()) - fees).toBe(10n * CENTI);
      // Only a ticket not yet in a tx at the kill may have needed a new one.
      expect(await txCount('latest')).toBeLessThanOrEqual(minedWhileDead + 1);
    },
    60_000 + REDEEMED_WITHIN_MS,
  );

  it('the txs are still pending at the restart: they are followed, not sent again', async () => {
    const a = await fx.newSender(parseEther('1'));
    const batch = [await fx.ticket(a, CENTI), await fx.ticket(a, 2n * CENTI), await fx.ticket(a, 3n * CENTI)];
    const fees = await fx.fees();
    const mined = await txCount('latest');
    await acceptAndKillWithTxsInFlight(svc!, batch, 3);

    svc = await startActiveRedeemer(env);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await txCount('pending')).toBe(mined + 3);
    for (const t of batch) {
      expect((await handover.tickets.findByHash(hashOf(t)))!.status).toBe(WinningTicketStatus.SUBMITTED);
    }

    await fx.provider.send('evm_mine', []);
    await fx.provider.send('evm_setAutomine', [true]);
    await redeemedOnce(batch);
    expect((await fx.fees()) - fees).toBe(6n * CENTI);
    expect(await txCount('latest')).toBe(mined + 3);
  });
});
