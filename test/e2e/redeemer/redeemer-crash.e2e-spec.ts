import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseEther } from 'ethers';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { repoRoot } from '#app/common';
import { DatabaseModule, WinningTicketRepository, WinningTicketStatus } from '#app/database';
import { QueueModule, WinningTicketIntake } from '#app/queue';
import type { SignedTicket } from '#app/ticket';
import { freePort, startServiceProcess, waitForHttpOk, type ServiceProcess } from '#app/testing';
import {
  eventually,
  hashOf,
  startRedeemerChain,
  type RedeemerChainFixture,
} from '../../integration/redeemer/redeemer-fixture.js';

const OPS_TOKEN = 'redeemer-e2e-ops-token-0123456789';

/** Just what the Recipient uses to hand over winning tickets: Postgres + the redemption queue. */
@Module({})
class IntakeHarness {}

/**
 * The built Redeemer as a real process, killed with SIGKILL right after it broadcast a redemption
 * tx, then restarted: every ticket must end `redeemed` by exactly one on-chain redemption.
 */
describe('Redeemer process: kill -9 after sending, restart', () => {
  let fx: RedeemerChainFixture;
  let ctx: INestApplicationContext;
  let intake: WinningTicketIntake;
  let tickets: WinningTicketRepository;
  let ds: DataSource;
  let env: Record<string, string>;
  let port: number;
  let svc: ServiceProcess | undefined;

  beforeAll(async () => {
    // The process runs from dist/: compile it (incremental, so cheap when up to date).
    const build = spawnSync(
      process.execPath,
      [join(repoRoot(), 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      { cwd: repoRoot(), encoding: 'utf8' },
    );
    if (build.error) throw build.error;

    fx = await startRedeemerChain();
    const redisPrefix = `${inject('redisPrefix')}redeemer-crash:`;
    ctx = await NestFactory.createApplicationContext(
      {
        module: IntakeHarness,
        imports: [
          DatabaseModule.forRoot(inject('databaseUrl')),
          QueueModule.forRoot({ redisUrl: inject('redisUrl'), redisPrefix }),
        ],
      },
      { logger: false },
    );
    intake = ctx.get(WinningTicketIntake);
    tickets = ctx.get(WinningTicketRepository);
    ds = ctx.get(DataSource);
    port = await freePort();
    env = {
      DATABASE_URL: inject('databaseUrl'),
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: redisPrefix,
      ETH_RPC_URL: fx.anvil.url,
      CONTROLLER_ADDRESS: fx.protocol.controller,
      REDEEMER_HTTP_PORT: String(port),
      REDEEMER_PRIVATE_KEY: fx.recipient.privateKey,
      REDEEMER_RECIPIENTS: fx.recipient.address,
      REDEEMER_CONFIRMATIONS: '1',
      REDEEMER_PARAMS_EXPIRY_MARGIN_BLOCKS: '0',
      REDEEMER_BATCH_WINDOW_MS: '50',
      REDEEMER_POLL_MS: '250',
      REDEEMER_TX_POLL_MS: '100',
      REDEEMER_RETRY_BASE_MS: '200',
      REDEEMER_RETRY_MAX_MS: '2000',
      REDEEMER_RECONCILE_INTERVAL_MS: '1000',
      REDEEMER_OPS_TOKEN: OPS_TOKEN,
    };
  });

  afterAll(async () => {
    await svc?.stop();
    await ctx?.close();
    await fx?.stop();
  });

  async function startRedeemer(): Promise<ServiceProcess> {
    const proc = startServiceProcess('redeemer', env);
    await waitForHttpOk(`http://127.0.0.1:${port}/health`, proc);
    await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/ops/status`, {
        headers: { authorization: `Bearer ${OPS_TOKEN}` },
      });
      const body = (await res.json()) as { state?: string };
      return body.state === 'active' ? true : undefined;
    }, 'the redeemer to be active');
    return proc;
  }

  async function kill9(proc: ServiceProcess): Promise<void> {
    const exited = new Promise((resolve) => proc.proc.once('exit', resolve));
    proc.proc.kill('SIGKILL');
    await exited;
    expect(proc.proc.signalCode).toBe('SIGKILL');
  }

  const txCount = async (tag: 'latest' | 'pending') =>
    Number(await fx.provider.send('eth_getTransactionCount', [fx.recipient.address, tag]));

  /** Accepts `t` and kills the Redeemer the moment its redemption tx reaches the mempool. */
  async function acceptAndKillAfterSend(proc: ServiceProcess, t: SignedTicket): Promise<void> {
    const mined = await txCount('latest');
    await fx.provider.send('evm_setAutomine', [false]);
    await intake.accept(t);
    await eventually(
      async () => ((await txCount('pending')) > mined ? true : undefined),
      'the redemption tx',
      30_000,
      5,
    );
    await kill9(proc);
    expect(await txCount('pending')).toBe(mined + 1);
    const row = (await tickets.findByHash(hashOf(t)))!;
    expect(row.status).toBe(WinningTicketStatus.SUBMITTED);
    expect(row.txHash).toMatch(/^0x[0-9a-f]{64}$/);
  }

  const redeemedOnce = async (t: SignedTicket) => {
    const row = await eventually(async () => {
      const r = (await tickets.findByHash(hashOf(t)))!;
      return r.status === WinningTicketStatus.REDEEMED ? r : undefined;
    }, 'the ticket to be redeemed');
    expect((await fx.redeemedHashes()).filter((h) => h === hashOf(t))).toHaveLength(1);
    const txs = await ds.query<{ status: string; mined_hash: string }[]>(
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
    expect((await tickets.findByHash(hashOf(t)))!.status).toBe(WinningTicketStatus.SUBMITTED);

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
