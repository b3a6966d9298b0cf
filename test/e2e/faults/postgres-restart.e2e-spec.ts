import { randomBytes } from 'node:crypto';
import { parseEther, type Wallet } from 'ethers';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ticketParamsCodec } from '#app/proto';
import {
  buildServices,
  freePort,
  startPrivatePostgres,
  startServiceProcess,
  waitForHttpOk,
  type PrivatePostgres,
  type ServiceProcess,
} from '#app/testing';
import { MAX_WIN_PROB, Rational, bytesToHex, hexToBytes, ticketEV } from '#app/ticket';
import {
  RecipientClient,
  type RecipientCallError,
  type GetTicketParamsResponse,
  type ProcessPaymentResponse,
} from '#app/clients';
import {
  PRICE,
  paymentMessage,
  signBatch,
  type TestSender,
} from '../../integration/recipient/recipient-fixture.js';
import {
  eventually,
  startRedeemerChain,
  type RedeemerChainFixture,
} from '../../integration/redeemer/redeemer-fixture.js';
import { redeemerEnv, untilRedeemerState } from '../support/redeemer-process.js';
import { openRedemptionQueue, type RedemptionQueue } from '../support/redemption-queue.js';
import { winnersOf } from '../support/winning-tickets.js';

/** Every ticket wins (winProb = MAX × EV / (EV + 1)), and a face value worth redeeming on anvil. */
const WINNING_EV = 10n ** 16n;
const ALWAYS_WIN_WORTH_REDEEMING = {
  RECIPIENT_TICKET_EV: WINNING_EV.toString(),
  RECIPIENT_MAX_FACE_VALUE: (WINNING_EV + 1n).toString(),
  RECIPIENT_REDEEM_GAS: '100',
};
/** A replica issuing params that practically never win: EV 1 wei against a face value of ~1e16. */
const NEVER_WIN = { RECIPIENT_TICKET_EV: '1' };
/** The params' 5 blocks, then the Recipient's reveal margin (3 blocks for its 24 s stall bound). */
const REVEAL_AFTER_BLOCKS = 5 + 3;

/**
 * The built Recipient and Redeemer as real processes on a Postgres of this file alone, which is
 * killed (SIGKILL, crash recovery on restart) and stopped (fast shutdown) under them. Winning
 * tickets are never answered as accepted unless stored; a refused payment credits nothing and can
 * be sent again; both services recover without a restart, and every winner is stored, queued and
 * redeemed on chain exactly once.
 */
describe('Postgres restarts under the Recipient and the Redeemer', () => {
  let postgres: PrivatePostgres;
  let db: pg.Pool;
  let fx: RedeemerChainFixture;
  let redisPrefix: string;
  let redemptions: RedemptionQueue;
  let recipientEnv: Record<string, string>;
  let recipientHttp: number;
  let recipient: ServiceProcess | undefined;
  let client: RecipientClient;
  let redeemerHttp: number;
  let redeemer: ServiceProcess | undefined;
  let sender: TestSender;

  beforeAll(async () => {
    buildServices();
    postgres = await startPrivatePostgres();
    const databaseUrl = await postgres.createMigratedDatabase('ticketpay_pg_restart');
    db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    // Idle connections break when the server is killed; the pool drops them and reconnects.
    db.on('error', () => undefined);
    fx = await startRedeemerChain();
    sender = testSender(await fx.newSender(parseEther('1'), parseEther('10')));
    redisPrefix = `${inject('redisPrefix')}pg-restart:`;
    redemptions = openRedemptionQueue(inject('redisUrl'), redisPrefix);
    const shared = {
      DATABASE_URL: databaseUrl,
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: redisPrefix,
      ETH_RPC_URL: fx.anvil.url,
      CONTROLLER_ADDRESS: fx.protocol.controller,
    };
    recipientHttp = await freePort();
    const grpcUrl = `127.0.0.1:${await freePort()}`;
    recipientEnv = {
      ...shared,
      ...ALWAYS_WIN_WORTH_REDEEMING,
      RECIPIENT_ADDRESS: fx.recipient.address.toLowerCase(),
      RECIPIENT_SECRET_KEY: randomBytes(32).toString('hex'),
      RECIPIENT_HTTP_PORT: String(recipientHttp),
      RECIPIENT_GRPC_URL: grpcUrl,
      RECIPIENT_PARAMS_EXPIRY_BLOCKS: '5',
      // 2 blocks of 12 s: winners are revealed 3 blocks after their params expire (revealMarginBlocks).
      RECIPIENT_MAX_HEAD_STALL_SECONDS: '24',
      RECIPIENT_RECONCILE_INTERVAL_SECONDS: '1',
    };
    redeemerHttp = await freePort();
    recipient = startServiceProcess('recipient', recipientEnv);
    redeemer = startServiceProcess(
      'redeemer',
      redeemerEnv(fx, { databaseUrl, redisPrefix, rpcUrl: fx.anvil.url, httpPort: redeemerHttp }),
    );
    await waitForHttpOk(`http://127.0.0.1:${recipientHttp}/health`, recipient);
    await waitForHttpOk(`http://127.0.0.1:${redeemerHttp}/health`, redeemer);
    await redeemerState('active');
    client = new RecipientClient(grpcUrl);
  }, 180_000);

  afterAll(async () => {
    client?.close();
    await recipient?.stop();
    await redeemer?.stop();
    await redemptions?.close();
    await db?.end();
    await fx?.stop();
    await postgres?.destroy();
  });

  function testSender(wallet: Wallet): TestSender {
    return {
      wallet,
      key: hexToBytes(wallet.privateKey, 'key', 32),
      address: hexToBytes(wallet.address.toLowerCase(), 'address', 20),
      hex: wallet.address.toLowerCase(),
    };
  }

  async function health(port: number): Promise<{ status: number; database?: string }> {
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    const body = (await res.json()) as { details?: { database?: { status?: string } } };
    return { status: res.status, database: body.details?.database?.status };
  }

  async function untilHealth(port: number, want: 'up' | 'down'): Promise<void> {
    await eventually(async () => {
      const h = await health(port);
      return h.database === want && (h.status === 200) === (want === 'up') ? true : undefined;
    }, `/health on ${port} to report the database ${want}`);
  }

  const redeemerState = (want: string) => untilRedeemerState(redeemerHttp, want, 90_000);

  const issue = (c: RecipientClient = client) => c.getTicketParams({ sender: sender.address, price: PRICE });
  /**
   * Params of the current round: the Recipient reads the chain once a second, so right after a
   * new round it may still issue params of the previous one (which would expire a round early).
   */
  const issueCurrent = async () => {
    const round = await fx.rounds.lastInitializedRound();
    return eventually(async () => {
      const issued = await issue();
      const params = ticketParamsCodec.fromMessage(issued.ticketParams);
      return params.expirationParams?.creationRound === round ? issued : undefined;
    }, `params of round ${round}`);
  };
  const rational = (m: { num?: string; den?: string }) =>
    Rational.of(BigInt(m.num ?? '0'), BigInt(m.den ?? '1'));
  /** The credit `count` tickets of these params earn: their expected value. */
  const evOf = (issued: GetTicketParamsResponse, count: number) => {
    const params = ticketParamsCodec.fromMessage(issued.ticketParams);
    return ticketEV(params.faceValue, params.winProb).mul(Rational.of(BigInt(count)));
  };
  const randHashOf = (issued: GetTicketParamsResponse) =>
    bytesToHex(ticketParamsCodec.fromMessage(issued.ticketParams).recipientRandHash);
  const balance = async (jobId: string) =>
    rational((await client.balance({ sender: sender.address, jobId })).balance);
  const refusal = (call: Promise<ProcessPaymentResponse | GetTicketParamsResponse>) =>
    call.then(
      () => ({ status: -1, errorCode: 'ACCEPTED' }),
      (err: unknown) => {
        const e = err as RecipientCallError;
        return { status: e.status, errorCode: e.errorCode };
      },
    );
  const rowsOf = (randHash: string) => winnersOf(db, randHash);
  const jobsFor = async (hash: string) =>
    (
      await redemptions.queue.getJobs(['waiting', 'delayed', 'active', 'prioritized', 'completed', 'failed'])
    ).filter((j) => j.id === hash);
  /** Mines past the params' expiry into a fresh initialized round, so redemption is due. */
  const makeDue = async () => {
    await fx.mine(REVEAL_AFTER_BLOCKS);
    await fx.nextRound();
  };
  const redeemedOnce = async (hashes: readonly string[]) => {
    for (const hash of hashes) {
      await eventually(
        async () => {
          const [row] = (
            await db.query<{ status: string }>('SELECT status FROM winning_ticket WHERE ticket_hash = $1', [
              hash,
            ])
          ).rows;
          return row?.status === 'redeemed' ? true : undefined;
        },
        `ticket ${hash} to be redeemed`,
        90_000,
      );
    }
    const onChain = await fx.redeemedHashes();
    for (const hash of hashes) expect(onChain.filter((h) => h === hash)).toHaveLength(1);
  };
  const UNAVAILABLE = 14;
  const txCount = async (tag: 'latest' | 'pending') =>
    Number(await fx.provider.send('eth_getTransactionCount', [fx.recipient.address, tag]));
  const leaseLosses = () => redeemer!.output().split('signer lease lost').length - 1;
  const untilLeaseLost = (before: number) =>
    eventually(
      () => Promise.resolve(leaseLosses() > before ? true : undefined),
      'the redeemer to lose its signer lease',
    );

  const winners: string[] = [];

  it('Postgres killed: winners are refused with a code and credit nothing, non-winners are paid, both recover alone', async () => {
    const recipientPid = recipient!.proc.pid;
    const redeemerPid = redeemer!.proc.pid;
    const issued = await issueCurrent();
    const randHash = randHashOf(issued);
    const payment = paymentMessage(issued, signBatch(issued, sender, [1, 2]));
    // Params that practically never win, issued (with the same stored secret) by a second replica.
    const replicaHttp = await freePort();
    const replicaGrpc = `127.0.0.1:${await freePort()}`;
    const replica = startServiceProcess('recipient', {
      ...recipientEnv,
      ...NEVER_WIN,
      RECIPIENT_MAX_FACE_VALUE: '0',
      RECIPIENT_REDEEM_GAS: '350000',
      RECIPIENT_HTTP_PORT: String(replicaHttp),
      RECIPIENT_GRPC_URL: replicaGrpc,
    });
    const replicaClient = new RecipientClient(replicaGrpc);
    let losing: GetTicketParamsResponse;
    try {
      await waitForHttpOk(`http://127.0.0.1:${replicaHttp}/health`, replica);
      losing = await issue(replicaClient);
    } finally {
      replicaClient.close();
      await replica.stop();
    }
    expect(ticketParamsCodec.fromMessage(losing.ticketParams).winProb < MAX_WIN_PROB / 10n ** 9n).toBe(true);
    const before = await balance('pg-kill');

    const losses = leaseLosses();
    await postgres.stop('kill');
    await untilHealth(recipientHttp, 'down');
    await untilHealth(redeemerHttp, 'down');
    // The lease goes with its connection: the Redeemer stops sending until Postgres is back.
    await untilLeaseLost(losses);

    // Winners: refused as unavailable and nothing credited, as often as they are sent meanwhile.
    for (let i = 0; i < 2; i++) {
      expect(await refusal(client.processPayment({ payment, jobId: 'pg-kill' }))).toEqual({
        status: UNAVAILABLE,
        errorCode: 'DATABASE_UNAVAILABLE',
      });
      expect((await balance('pg-kill')).equals(before)).toBe(true);
    }
    // Non-winners need no Postgres: accepted and credited during the outage.
    const paidLosing = await client.processPayment({
      payment: paymentMessage(losing, signBatch(losing, sender, [1, 2, 3])),
      jobId: 'pg-kill-losing',
    });
    expect(paidLosing.tickets.map((t) => [t.accepted, t.won])).toEqual([
      [true, false],
      [true, false],
      [true, false],
    ]);
    expect(paidLosing.winningCount).toBe(0);
    expect(rational(paidLosing.credited).equals(evOf(losing, 3))).toBe(true);
    expect(evOf(losing, 3).sign()).toBe(1);
    // New params need the sender's pending winners from Postgres: refused with a code too.
    expect(await refusal(issue())).toEqual({ status: UNAVAILABLE, errorCode: 'DATABASE_UNAVAILABLE' });

    await postgres.start();
    await untilHealth(recipientHttp, 'up');
    await untilHealth(redeemerHttp, 'up');
    await redeemerState('active');

    // The same payment, sent again: accepted and credited once (its nonces were not kept).
    const paid = await client.processPayment({ payment, jobId: 'pg-kill' });
    expect(paid.acceptedCount).toBe(2);
    expect(paid.winningCount).toBe(2);
    expect(rational(paid.credited).equals(evOf(issued, 2))).toBe(true);
    const afterPaid = await balance('pg-kill');
    expect(afterPaid.equals(before.add(evOf(issued, 2)))).toBe(true);
    expect(rational(paid.balance!).equals(afterPaid)).toBe(true);
    const replay = await client.processPayment({ payment, jobId: 'pg-kill' });
    expect(replay.acceptedCount).toBe(0);
    expect(replay.tickets.map((t) => t.errorCode)).toEqual(['NONCE_ALREADY_SEEN', 'NONCE_ALREADY_SEEN']);
    expect((await balance('pg-kill')).equals(afterPaid)).toBe(true);

    const rows = await rowsOf(randHash);
    expect(rows.map((r) => r.ticket_hash)).toEqual(paid.tickets.map((t) => bytesToHex(t.ticketHash)));
    for (const row of rows) {
      await eventually(
        async () => ((await jobsFor(row.ticket_hash)).length === 1 ? true : undefined),
        'one job',
      );
    }
    winners.push(...rows.map((r) => r.ticket_hash));
    // Recovered in place: the same processes as before the outage.
    expect(recipient!.proc.pid).toBe(recipientPid);
    expect(redeemer!.proc.pid).toBe(redeemerPid);
    expect(recipient!.proc.exitCode).toBeNull();
    expect(redeemer!.proc.exitCode).toBeNull();
  });

  it('after the restart every winner is redeemed on chain exactly once', async () => {
    await makeDue();
    await redeemedOnce(winners);
    // Never a second job: the one job completed, or was removed by the settlement that redeemed it.
    for (const hash of winners) expect((await jobsFor(hash)).length).toBeLessThanOrEqual(1);
  });

  it('Postgres stopped while the Redeemer has due jobs: none is lost or failed, each is redeemed once after', async () => {
    const issued = await issueCurrent();
    const paid = await client.processPayment({
      payment: paymentMessage(issued, signBatch(issued, sender, [1, 2, 3])),
      jobId: 'pg-stop',
    });
    expect(paid.winningCount).toBe(3);
    const hashes = paid.tickets.map((t) => bytesToHex(t.ticketHash));
    for (const hash of hashes) {
      await eventually(async () => ((await jobsFor(hash)).length === 1 ? true : undefined), `job ${hash}`);
    }
    const sent = await txCount('latest');

    const losses = leaseLosses();
    await postgres.stop('fast');
    await makeDue();
    // The Redeemer loses its signer lease with the connection and stands by (its /ops/status
    // needs Postgres too, so the log tells); its jobs are due meanwhile.
    await untilHealth(redeemerHttp, 'down');
    await untilLeaseLost(losses);
    for (const hash of hashes) {
      const [job] = await jobsFor(hash);
      expect(await job.getState()).not.toBe('failed');
    }
    expect(await txCount('latest')).toBe(sent);

    await postgres.start();
    await untilHealth(redeemerHttp, 'up');
    await redeemerState('active');
    await redeemedOnce(hashes);
    // Never a second job: the one job completed, or was removed by the settlement that redeemed it.
    for (const hash of hashes) expect((await jobsFor(hash)).length).toBeLessThanOrEqual(1);
    expect(redeemer!.proc.exitCode).toBeNull();
  });

  it('Postgres killed while a redemption tx is pending: the restart settles it, no second tx', async () => {
    // At the start of a fresh round, so the params expire well inside it (no round to initialize).
    await fx.nextRound();
    const issued = await issueCurrent();
    const paid = await client.processPayment({
      payment: paymentMessage(issued, signBatch(issued, sender, [1, 2])),
      jobId: 'pg-in-flight',
    });
    expect(paid.winningCount).toBe(2);
    const hashes = paid.tickets.map((t) => bytesToHex(t.ticketHash));
    for (const hash of hashes) {
      await eventually(async () => ((await jobsFor(hash)).length === 1 ? true : undefined), `job ${hash}`);
    }
    const mined = await txCount('latest');
    let broadcast: number;
    await fx.provider.send('evm_setAutomine', [false]);
    try {
      await fx.mine(REVEAL_AFTER_BLOCKS);
      // Every tx holding the two tickets broadcast (their jobs may fall due a batch window
      // apart on a busy machine, and then go in two txs): only then is nothing left to send.
      await eventually(
        async () => {
          const { rows } = await db.query<{ txs: string; covered: string }>(
            `SELECT count(DISTINCT t.id) AS txs, count(DISTINCT r.ref) AS covered
               FROM chain_tx t CROSS JOIN LATERAL unnest(t.refs) AS r(ref) WHERE r.ref = ANY($1::text[])`,
            [hashes],
          );
          const sent = (await txCount('pending')) - mined;
          return Number(rows[0].covered) === hashes.length && sent === Number(rows[0].txs) ? true : undefined;
        },
        'the redemption tx(s) of both tickets',
        30_000,
        20,
      );
      const losses = leaseLosses();
      await postgres.stop('kill');
      // A tx is stored before it is broadcast: none can follow while Postgres is down.
      broadcast = await txCount('pending');
      await fx.provider.send('evm_mine', []);
      await untilLeaseLost(losses);
    } finally {
      await fx.provider.send('evm_setAutomine', [true]);
    }
    expect(await txCount('latest')).toBe(broadcast);

    await postgres.start();
    await redeemedOnce(hashes);
    expect(await txCount('latest')).toBe(broadcast);
    expect(redeemer!.proc.exitCode).toBeNull();
  });

  it('both services still stop cleanly on SIGTERM, having logged no secret', async () => {
    expect(recipient!.output()).not.toContain(recipientEnv.RECIPIENT_SECRET_KEY);
    expect(redeemer!.output()).not.toContain(fx.recipient.privateKey.slice(2));
    expect(await recipient!.stop()).toBe(0);
    expect(await redeemer!.stop()).toBe(0);
    recipient = undefined;
    redeemer = undefined;
  });
});
