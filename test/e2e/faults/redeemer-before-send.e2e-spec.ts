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
import {
  freePort,
  startServiceProcess,
  startTcpProxy,
  waitForHttpOk,
  type ServiceProcess,
  type TcpProxy,
} from '#app/testing';
import {
  eventually,
  hashOf,
  startRedeemerChain,
  type RedeemerChainFixture,
} from '../../integration/redeemer/redeemer-fixture.js';
import { privateDatabase, type PrivateDatabase } from '../../support/private-database.js';

const OPS_TOKEN = 'faults-redeemer-ops-token-0123456789';

@Module({})
class IntakeHarness {}

/**
 * The built Redeemer as a real process, killed with SIGKILL while it holds a redemption job but
 * cannot have sent its transaction (its chain RPC is cut), restarted once the RPC is back: the
 * ticket ends `redeemed` by exactly one on-chain redemption and one transaction.
 */
describe('Redeemer process: kill -9 before sending, restart', () => {
  let fx: RedeemerChainFixture;
  let database: PrivateDatabase;
  let proxy: TcpProxy;
  let ctx: INestApplicationContext;
  let intake: WinningTicketIntake;
  let tickets: WinningTicketRepository;
  let ds: DataSource;
  let env: Record<string, string>;
  let port: number;
  let svc: ServiceProcess | undefined;

  beforeAll(async () => {
    const build = spawnSync(
      process.execPath,
      [join(repoRoot(), 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      { cwd: repoRoot(), encoding: 'utf8' },
    );
    if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
    database = await privateDatabase('faults-redeemer');
    fx = await startRedeemerChain();
    proxy = await startTcpProxy(fx.anvil.port);
    const redisPrefix = `${inject('redisPrefix')}faults-redeemer:`;
    ctx = await NestFactory.createApplicationContext(
      {
        module: IntakeHarness,
        imports: [
          DatabaseModule.forRoot(database.url),
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
      DATABASE_URL: database.url,
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: redisPrefix,
      ETH_RPC_URL: proxy.url,
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
      REDEEMER_RETRY_MAX_MS: '1000',
      REDEEMER_RECONCILE_INTERVAL_MS: '1000',
      REDEEMER_OPS_TOKEN: OPS_TOKEN,
    };
  }, 120_000);

  afterAll(async () => {
    await svc?.stop();
    await ctx?.close();
    await proxy?.stop();
    await fx?.stop();
    await database?.drop();
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

  const txCount = async (tag: 'latest' | 'pending') =>
    Number(await fx.provider.send('eth_getTransactionCount', [fx.recipient.address, tag]));

  it('the job is taken while the RPC is down, the process dies: the restart redeems it once', async () => {
    const sender = await fx.newSender(parseEther('1'));
    const t = await fx.ticket(sender, parseEther('0.01'));
    const fees = await fx.fees();
    svc = await startRedeemer();
    await proxy.stop();
    await intake.accept(t);
    // The Redeemer picks the job up and fails to reach the chain; give it a few attempts.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await txCount('pending')).toBe(0);
    const exited = new Promise((r) => svc!.proc.once('exit', r));
    svc.proc.kill('SIGKILL');
    await exited;
    expect(svc.proc.signalCode).toBe('SIGKILL');
    const row = (await tickets.findByHash(hashOf(t)))!;
    expect([WinningTicketStatus.QUEUED, WinningTicketStatus.SUBMITTING]).toContain(row.status);

    await proxy.start();
    svc = await startRedeemer();
    await eventually(async () => {
      const r = (await tickets.findByHash(hashOf(t)))!;
      return r.status === WinningTicketStatus.REDEEMED ? r : undefined;
    }, 'the ticket to be redeemed');
    expect((await fx.redeemedHashes()).filter((h) => h === hashOf(t))).toHaveLength(1);
    expect((await fx.fees()) - fees).toBe(t.faceValue);
    expect(await txCount('latest')).toBe(1);
    const txs = await ds.query<{ status: string }[]>(`SELECT status FROM chain_tx WHERE $1 = ANY(refs)`, [
      hashOf(t),
    ]);
    expect(txs).toEqual([{ status: 'mined' }]);
  }, 120_000);

  it('stops cleanly on SIGTERM', async () => {
    expect(await svc!.stop()).toBe(0);
    svc = undefined;
  });
});
