import { parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WinningTicketStatus } from '#app/database';
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

/**
 * The built Redeemer as a real process, killed with SIGKILL right after it broadcast a redemption
 * tx, then restarted: every ticket must end `redeemed` by exactly one on-chain redemption.
 */
describe('Redeemer process: kill -9 after sending, restart', () => {
  let fx: RedeemerChainFixture;
  let handover: RedeemerIntake;
  let env: Record<string, string>;
  let svc: ServiceProcess | undefined;

  beforeAll(async () => {
    buildServices();
    fx = await startRedeemerChain();
    const redisPrefix = `${inject('redisPrefix')}redeemer-crash:`;
    handover = await redeemerIntake(inject('databaseUrl'), redisPrefix);
    env = redeemerEnv(fx, {
      databaseUrl: inject('databaseUrl'),
      redisPrefix,
      rpcUrl: fx.anvil.url,
      httpPort: await freePort(),
      retryMaxMs: 2_000,
    });
  });

  afterAll(async () => {
    await svc?.stop();
    await handover?.close();
    await fx?.stop();
  });

  const startRedeemer = () => startActiveRedeemer(env);

  const txCount = async (tag: 'latest' | 'pending') =>
    Number(await fx.provider.send('eth_getTransactionCount', [fx.recipient.address, tag]));

  /** Accepts `t` and kills the Redeemer the moment its redemption tx reaches the mempool. */
  async function acceptAndKillAfterSend(proc: ServiceProcess, t: SignedTicket): Promise<void> {
    const mined = await txCount('latest');
    await fx.provider.send('evm_setAutomine', [false]);
    await handover.intake.accept(t);
    await eventually(
      async () => ((await txCount('pending')) > mined ? true : undefined),
      'the redemption tx',
      30_000,
      5,
    );
    await kill9(proc);
    expect(proc.proc.signalCode).toBe('SIGKILL');
    expect(await txCount('pending')).toBe(mined + 1);
    const row = (await handover.tickets.findByHash(hashOf(t)))!;
    expect(row.status).toBe(WinningTicketStatus.SUBMITTED);
    expect(row.txHash).toMatch(/^0x[0-9a-f]{64}$/);
  }

  const redeemedOnce = async (t: SignedTicket) => {
    const row = await eventually(async () => {
      const r = (await handover.tickets.findByHash(hashOf(t)))!;
      return r.status === WinningTicketStatus.REDEEMED ? r : undefined;
    }, 'the ticket to be redeemed');
    expect((await fx.redeemedHashes()).filter((h) => h === hashOf(t))).toHaveLength(1);
    const txs = await handover.ds.query<{ status: string; mined_hash: string }[]>(
      `SELECT status, mined_hash FROM chain_tx WHERE $1 = ANY(refs)`,
      [hashOf(t)],
    );
    expect(txs).toEqual([{ status: 'mined', mined_hash: row.txHash }]);
  };

  it('the tx is mined while the process is dead: the restart settles it, no second tx', async () => {
    const sender = await fx.newSender(parseEther('1'));
    const t = await fx.ticket(sender, parseEther('0.01'));
    const fees = await fx.fees();
    svc = await startRedeemer();
    await acceptAndKillAfterSend(svc, t);

    await fx.provider.send('evm_mine', []);
    await fx.provider.send('evm_setAutomine', [true]);
    svc = await startRedeemer();
    await redeemedOnce(t);
    expect((await fx.fees()) - fees).toBe(t.faceValue);
    expect(await txCount('latest')).toBe(1);
  });

  it('the tx is still pending at the restart: it is followed, not sent again', async () => {
    const sender = await fx.newSender(parseEther('1'));
    const t = await fx.ticket(sender, parseEther('0.02'));
    const fees = await fx.fees();
    await acceptAndKillAfterSend(svc!, t);

    svc = await startRedeemer();
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await txCount('pending')).toBe(2);
    expect((await handover.tickets.findByHash(hashOf(t)))!.status).toBe(WinningTicketStatus.SUBMITTED);

    await fx.provider.send('evm_mine', []);
    await fx.provider.send('evm_setAutomine', [true]);
    await redeemedOnce(t);
    expect((await fx.fees()) - fees).toBe(t.faceValue);
    expect(await txCount('latest')).toBe(2);
    expect(svc.output()).not.toContain(fx.recipient.privateKey.slice(2));
    expect(svc.output()).not.toContain(inject('databaseUrl'));
  });

  it('stops cleanly on SIGTERM with a signer configured', async () => {
    const code = await svc!.stop();
    svc = undefined;
    expect(code).toBe(0);
  });
});
