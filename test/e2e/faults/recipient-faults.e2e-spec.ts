import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ticketParamsCodec } from '#app/proto';
import {
  buildServices,
  freePort,
  kill9,
  startServiceProcess,
  waitForHttpOk,
  type ServiceProcess,
} from '#app/testing';
import { bytesToHex } from '#app/ticket';
import { RecipientClient, type RecipientCallError } from '#app/clients';
import {
  ALWAYS_WIN,
  PRICE,
  paymentMessage,
  ratio,
  signBatch,
  startHarness,
  type RecipientHarness,
  type TestSender,
} from '../../integration/recipient/recipient-fixture.js';
import { eventually } from '../../integration/redeemer/redeemer-fixture.js';
import { privateDatabase, type PrivateDatabase } from '../../support/private-database.js';
import { openRedemptionQueue, type RedemptionQueue } from '../support/redemption-queue.js';
import { winnersOf } from '../support/winning-tickets.js';

/** A redis-server of this file alone (no persistence): killing it loses the queue and nonce sets. */
interface PrivateRedis {
  url: string;
  port: number;
  start(): Promise<void>;
  kill(): Promise<void>;
}

async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const ping = async () => {
    const c = new Redis(port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    c.on('error', () => undefined);
    try {
      await c.connect();
      return (await c.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      c.disconnect();
    }
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      proc = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      );
      await eventually(async () => ((await ping()) ? true : undefined), 'redis-server to answer', 10_000);
    },
    async kill() {
      if (!proc || proc.exitCode !== null) return;
      const exited = new Promise((r) => proc!.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * The built Recipient as a real process on a private redis-server: killed with SIGKILL right
 * after it stored a winning ticket, and left without its Redis data. Each time it must come back
 * by itself, every stored winner must have exactly one redemption job, and nothing is credited
 * or stored twice.
 */
describe('Recipient process under faults', () => {
  let h: RecipientHarness;
  let database: PrivateDatabase;
  let redis: PrivateRedis;
  let db: pg.Client;
  let redemptions: RedemptionQueue;
  let sender: TestSender;
  let env: Record<string, string>;
  let httpPort: number;
  let grpcUrl: string;
  let svc: ServiceProcess | undefined;
  let client: RecipientClient | undefined;

  beforeAll(async () => {
    buildServices();
    h = await startHarness('faults-recipient');
    sender = await h.newSender();
    database = await privateDatabase('faults-recipient');
    redis = await privateRedis();
    await redis.start();
    httpPort = await freePort();
    grpcUrl = `127.0.0.1:${await freePort()}`;
    env = {
      ...h.env,
      ...ALWAYS_WIN,
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      RECIPIENT_HTTP_PORT: String(httpPort),
      RECIPIENT_GRPC_URL: grpcUrl,
      RECIPIENT_RECONCILE_INTERVAL_SECONDS: '1',
    };
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    redemptions = openRedemptionQueue(redis.url, h.env.REDIS_PREFIX);
    await startRecipient();
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await svc?.stop();
    await redemptions?.close();
    await db?.end();
    await redis?.kill();
    await h?.stop();
    await database?.drop();
  });

  async function startRecipient(): Promise<void> {
    client?.close();
    svc = startServiceProcess('recipient', env);
    await waitForHttpOk(`http://127.0.0.1:${httpPort}/health`, svc);
    client = new RecipientClient(grpcUrl);
  }

  async function crash(): Promise<void> {
    await kill9(svc!);
    expect(svc!.proc.signalCode).toBe('SIGKILL');
  }

  const rowsOf = (randHash: string) => winnersOf(db, randHash);

  const issue = () => client!.getTicketParams({ sender: sender.address, price: PRICE });
  const randHashOf = (issued: Awaited<ReturnType<typeof issue>>) =>
    bytesToHex(ticketParamsCodec.fromMessage(issued.ticketParams).recipientRandHash);

  it('kill -9 right after a winner is stored: the restart queues it once, the payment is credited once', async () => {
    const issued = await issue();
    const randHash = randHashOf(issued);
    const payment = paymentMessage(issued, signBatch(issued, sender, [1]));
    const paying = client!.processPayment({ payment, jobId: 'fault-job' }).catch((e: unknown) => e);
    // Kill the moment the row is visible: the enqueue and the reply may or may not have happened.
    const [row] = await eventually(
      async () => {
        const rows = await rowsOf(randHash);
        return rows.length ? rows : undefined;
      },
      'the winning ticket row',
      30_000,
      2,
    );
    await crash();
    await paying;
    // The worst case whatever the timing: the redemption job is gone too (the crash came before
    // the enqueue reached Redis). Only Postgres knows about the ticket now.
    await redemptions.queue.remove(row.ticket_hash);
    expect(await redemptions.queue.getJob(row.ticket_hash)).toBeUndefined();

    await startRecipient();
    await eventually(
      async () => ((await redemptions.queue.getJob(row.ticket_hash)) ? true : undefined),
      'the job to be re-enqueued',
    );
    await eventually(
      async () => ((await rowsOf(randHash))[0]?.status === 'queued' ? true : undefined),
      'the row to be queued',
    );
    // Winners are stored before the script that records the nonce and its credit together: killed
    // after that script, the resubmission is a replay (credited already); killed before it,
    // nothing was recorded and the resubmission is accepted now. Credited once either way.
    const before = await client!.balance({ sender: sender.address, jobId: 'fault-job' });
    const again = await client!.processPayment({ payment, jobId: 'fault-job' });
    if (again.acceptedCount === 0) {
      expect(again.tickets[0]).toMatchObject({ accepted: false, errorCode: 'NONCE_ALREADY_SEEN' });
      expect(before.balance?.num).not.toBe('0');
      expect(ratio(again.balance)).toBe(ratio(before.balance));
    } else {
      expect(before.balance?.num).toBe('0');
      expect(again.balance?.num).not.toBe('0');
    }
    const replay = await client!.processPayment({ payment, jobId: 'fault-job' });
    expect(replay.tickets[0]).toMatchObject({ accepted: false, errorCode: 'NONCE_ALREADY_SEEN' });
    expect(ratio(replay.balance)).toBe(ratio(again.balance));
    expect(await rowsOf(randHash)).toHaveLength(1);
    const jobs = await redemptions.queue.getJobs(['waiting', 'delayed', 'active', 'prioritized']);
    expect(jobs.filter((j) => j.id === row.ticket_hash)).toHaveLength(1);
  }, 120_000);

  it('Redis restarts empty: the service recovers alone, winners are re-queued, replays stay refused', async () => {
    const issued = await issue();
    const randHash = randHashOf(issued);
    const payment = paymentMessage(issued, signBatch(issued, sender, [1, 2, 3]));
    const paid = await client!.processPayment({ payment, jobId: 'redis-job' });
    expect(paid.winningCount).toBe(3);
    const hashes = paid.tickets.map((t) => bytesToHex(t.ticketHash));

    await redis.kill();
    await redis.start();
    expect(await redemptions.queue.getJob(hashes[0])).toBeUndefined();

    await eventually(
      async () => ((await fetch(`http://127.0.0.1:${httpPort}/health`)).status === 200 ? true : undefined),
      'the Recipient to report healthy again',
    );
    for (const hash of hashes) {
      await eventually(
        async () => ((await redemptions.queue.getJob(hash)) ? true : undefined),
        `job ${hash}`,
      );
    }
    // The nonce set went with Redis: the params are unknown now, so the replay is refused.
    const replay = await client!.processPayment({ payment, jobId: 'redis-job' }).then(
      (res) => res.tickets.map((t) => t.errorCode),
      (err: unknown) => [(err as RecipientCallError).errorCode],
    );
    expect(
      replay.every((code) => code === 'PARAMS_UNKNOWN'),
      replay.join(','),
    ).toBe(true);
    expect(await rowsOf(randHash)).toHaveLength(3);
    // New params and payments work without anyone restarting anything.
    const fresh = await issue();
    const ok = await client!.processPayment({
      payment: paymentMessage(fresh, signBatch(fresh, sender, [1])),
      jobId: 'redis-job-2',
    });
    expect(ok.acceptedCount).toBe(1);
    expect(svc!.proc.exitCode).toBeNull();
  }, 120_000);
});
