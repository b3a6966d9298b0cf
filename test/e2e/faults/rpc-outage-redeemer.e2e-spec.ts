import { parseEther, type Wallet } from 'ethers';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WinningTicketStatus } from '#app/database';
import { buildServices, type ServiceProcess } from '#app/testing';
import type { SignedTicket } from '#app/ticket';
import { eventually, hashOf } from '../../integration/redeemer/redeemer-fixture.js';
import { redeemerBehindProxy, untilChainHealth, type RedeemerBehindProxy } from './rpc-outage-harness.js';

/** Long enough for the Redeemer to take its jobs and fail to reach the chain a few times. */
const OUTAGE_MS = 2_500;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The built Redeemer as a real process, its chain RPC behind a proxy that is stopped while anvil
 * goes on mining. Tickets that fall due meanwhile wait (never failed or expired for the outage)
 * and are redeemed exactly once when the RPC is back; a tx already sent is followed, never sent
 * again; a ticket whose validity window really closed during the outage ends `expired`.
 */
describe('Redeemer process: the chain RPC goes away for some blocks', () => {
  let rs: RedeemerBehindProxy;
  let svc: ServiceProcess | undefined;

  beforeAll(async () => {
    buildServices();
    rs = await redeemerBehindProxy('rpc-outage-redeemer');
    svc = await rs.start();
  }, 120_000);

  afterAll(async () => {
    await svc?.stop();
    await rs?.stop();
  });

  const row = async (t: SignedTicket) => (await rs.tickets.findByHash(hashOf(t)))!;

  const untilStatus = (t: SignedTicket, status: WinningTicketStatus, reason?: string) =>
    eventually(
      async () => {
        const r = await row(t);
        return r.status === status && (reason === undefined || r.statusReason === reason) ? r : undefined;
      },
      `ticket ${hashOf(t)} to be ${status}${reason ? ` (${reason})` : ''}`,
    );

  /** Until the Redeemer took the ticket's job and put it to sleep, the ticket still queued: its params wait. */
  const untilParamsWait = async (t: SignedTicket) => {
    await eventually(
      async () =>
        (await (await rs.queue.boardSource().getJob(hashOf(t)))?.getState()) === 'delayed' ? true : undefined,
      `job of ${hashOf(t)} to sleep`,
    );
    expect((await row(t)).status).toBe(WinningTicketStatus.QUEUED);
  };

  /** Redeemed by exactly one WinningTicketRedeemed, through exactly one tx, the one the row names. */
  const redeemedOnce = async (t: SignedTicket) => {
    const r = await untilStatus(t, WinningTicketStatus.REDEEMED);
    expect((await rs.fx.redeemedHashes()).filter((h) => h === hashOf(t))).toHaveLength(1);
    expect(await rs.fx.broker.usedTickets(hashOf(t))).toBe(true);
    const txs = await rs.ds.query<{ status: string; mined_hash: string }[]>(
      `SELECT status, mined_hash FROM chain_tx WHERE $1 = ANY(refs)`,
      [hashOf(t)],
    );
    expect(txs).toEqual([{ status: 'mined', mined_hash: r.txHash }]);
  };

  const newSender = (): Promise<Wallet> => rs.fx.newSender(parseEther('1'));

  it('winners falling due during the outage wait, then each is redeemed once', async () => {
    const sender = await newSender();
    const head = await rs.fx.blockNumber();
    const waiting = [
      await rs.fx.ticket(sender, parseEther('0.01'), { expirationBlock: head + 3n }),
      await rs.fx.ticket(sender, parseEther('0.02'), { expirationBlock: head + 3n }),
    ];
    for (const t of waiting) await rs.intake.accept(t);
    for (const t of waiting) await untilParamsWait(t);
    const fees = await rs.fx.fees();
    const sent = await rs.txCount('pending');

    await rs.proxy.stop();
    // The params expire on chain meanwhile, and one more winner arrives, due at once.
    await rs.fx.mine(10);
    const arrived = await rs.fx.ticket(sender, parseEther('0.03'));
    await rs.intake.accept(arrived);
    const all = [...waiting, arrived];
    await untilChainHealth(rs.httpPort, 'down');
    await pause(OUTAGE_MS);
    for (const t of all) expect((await row(t)).status).toBe(WinningTicketStatus.QUEUED);
    expect(await rs.txCount('pending')).toBe(sent);
    expect(svc!.proc.exitCode).toBeNull();

    await rs.proxy.start();
    for (const t of all) await redeemedOnce(t);
    expect((await rs.fx.fees()) - fees).toBe(parseEther('0.06'));
    const txs = await rs.ds.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM chain_tx WHERE refs && $1::text[]`,
      [all.map(hashOf)],
    );
    expect(await rs.txCount('latest')).toBe(sent + txs[0].n);
  }, 120_000);

  /** Accepts `t`, waits for its tx to reach the mempool (automine off) and cuts the RPC at once. */
  async function cutAfterSend(t: SignedTicket): Promise<number> {
    const mined = await rs.txCount('latest');
    await rs.fx.provider.send('evm_setAutomine', [false]);
    await rs.intake.accept(t);
    await eventually(
      async () => ((await rs.txCount('pending')) > mined ? true : undefined),
      'the redemption tx',
      30_000,
      5,
    );
    await rs.proxy.stop();
    expect(await rs.txCount('pending')).toBe(mined + 1);
    const r = await row(t);
    expect(r.status).toBe(WinningTicketStatus.SUBMITTED);
    expect(r.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    return mined;
  }

  it('a tx mined while the RPC is down is settled when it returns, never sent again', async () => {
    const t = await rs.fx.ticket(await newSender(), parseEther('0.01'));
    const mined = await cutAfterSend(t);
    await rs.fx.provider.send('evm_mine', []);
    await rs.fx.provider.send('evm_setAutomine', [true]);
    await rs.fx.mine(5);
    await pause(OUTAGE_MS);
    expect((await row(t)).status).toBe(WinningTicketStatus.SUBMITTED);

    await rs.proxy.start();
    await redeemedOnce(t);
    expect(await rs.txCount('latest')).toBe(mined + 1);
  }, 120_000);

  it('a tx still pending when the RPC returns is followed, not sent again', async () => {
    const t = await rs.fx.ticket(await newSender(), parseEther('0.01'));
    const mined = await cutAfterSend(t);
    await pause(OUTAGE_MS);

    await rs.proxy.start();
    await untilChainHealth(rs.httpPort, 'up');
    // Several tx polls with the RPC back: the stored tx is known to the node, so nothing is sent.
    await pause(1_000);
    expect(await rs.txCount('pending')).toBe(mined + 1);
    expect((await row(t)).status).toBe(WinningTicketStatus.SUBMITTED);

    await rs.fx.provider.send('evm_mine', []);
    await rs.fx.provider.send('evm_setAutomine', [true]);
    await redeemedOnce(t);
    expect(await rs.txCount('latest')).toBe(mined + 1);
  }, 120_000);

  it('the RPC is cut after the tx is stored, before it is broadcast: it is broadcast once when the RPC returns', async () => {
    const t = await rs.fx.ticket(await newSender(), parseEther('0.01'));
    const mined = await rs.txCount('latest');
    // Hold the signer's nonce row: the Redeemer signs the tx, then waits to store it until the RPC is gone.
    const lock = new pg.Client({ connectionString: rs.database.url });
    await lock.connect();
    try {
      await lock.query('BEGIN');
      const held = await lock.query('SELECT 1 FROM signer_nonce WHERE signer = $1 FOR UPDATE', [
        rs.fx.recipient.address.toLowerCase(),
      ]);
      expect(held.rowCount).toBe(1);
      await rs.intake.accept(t);
      // A writer of signer_nonce blocked behind us: the tx is signed and about to be stored.
      await eventually(async () => {
        const waiting = await lock.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks w JOIN pg_locks h ON h.pid = w.pid
            WHERE NOT w.granted AND h.granted AND h.mode = 'RowExclusiveLock'
              AND h.relation = 'signer_nonce'::regclass`,
        );
        return waiting.rows[0].n > 0 ? true : undefined;
      }, 'the tx insert to wait for the nonce row');
      await rs.proxy.stop();
      await lock.query('COMMIT');
    } finally {
      await lock.end();
    }
    const r = await untilStatus(t, WinningTicketStatus.SUBMITTED);
    await pause(OUTAGE_MS);
    expect(await rs.txCount('pending')).toBe(mined);
    expect((await row(t)).status).toBe(WinningTicketStatus.SUBMITTED);

    await rs.proxy.start();
    await redeemedOnce(t);
    expect((await row(t)).txHash).toBe(r.txHash);
    const stored = await rs.ds.query<{ hashes: string[] }[]>(
      `SELECT hashes FROM chain_tx WHERE $1 = ANY(refs)`,
      [hashOf(t)],
    );
    expect(stored).toEqual([{ hashes: [r.txHash] }]);
    expect(await rs.txCount('latest')).toBe(mined + 1);
  }, 120_000);

  it('a ticket whose validity window closes during a long outage ends expired, not lost', async () => {
    const t = await rs.fx.ticket(await newSender(), parseEther('0.01'), {
      expirationBlock: (await rs.fx.blockNumber()) + 5n,
    });
    await rs.intake.accept(t);
    await untilParamsWait(t);
    const sent = await rs.txCount('latest');

    await rs.proxy.stop();
    // The ticket validity period is 2 rounds: after two more its creation round is too old.
    await rs.fx.nextRound();
    await rs.fx.nextRound();
    await pause(OUTAGE_MS);
    expect((await row(t)).status).toBe(WinningTicketStatus.QUEUED);

    await rs.proxy.start();
    await untilStatus(t, WinningTicketStatus.EXPIRED, 'TICKET_EXPIRED');
    expect(await rs.fx.redeemedHashes()).not.toContain(hashOf(t));
    expect(await rs.txCount('latest')).toBe(sent);
    expect(svc!.proc.exitCode).toBeNull();
  }, 120_000);
});
