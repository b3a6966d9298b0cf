import { Wallet } from 'ethers';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ticketParamsCodec } from '#app/proto';
import {
  ANVIL_PRIVATE_KEYS,
  buildServices,
  grpcHealthCheck,
  type ServiceProcess,
  advanceToNextRound,
} from '#app/testing';
import { bytesToHex, type TicketParams } from '#app/ticket';
import { RecipientClient, type RecipientCallError, type GetTicketParamsResponse } from '#app/clients';
import {
  PRICE,
  paymentMessage,
  ratio,
  signBatch,
  type TestSender,
} from '../../integration/recipient/recipient-fixture.js';
import { eventually } from '../../integration/redeemer/redeemer-fixture.js';
import { openRedemptionQueue, type RedemptionQueue } from '../support/redemption-queue.js';
import { winnersOf } from '../support/winning-tickets.js';
import {
  blackhole,
  recipientBehindProxy,
  untilChainHealth,
  type RecipientBehindProxy,
} from './rpc-outage-harness.js';

/** Far enough that no params of this file expire while blocks and a round go by. */
const EXPIRY_BLOCKS = 200n;
/** The RecipientClient's default deadline; a hang past it shows up as a code-less DEADLINE_EXCEEDED. */
const CALL_DEADLINE_MS = 10_000;

type Answer<T> = { ok: T } | { code: string; status: number };

/** A call's result, or its error code; the code is '' when the error carried none. */
async function answer<T>(call: Promise<T>): Promise<Answer<T>> {
  try {
    return { ok: await call };
  } catch (err) {
    const e = err as RecipientCallError;
    return { code: e.errorCode ?? '', status: e.status };
  }
}

/** Either a result or a stable error code — never an uncoded INTERNAL or a deadline. */
function expectAnsweredOrCoded(what: string, a: Answer<unknown>): void {
  if ('ok' in a) return;
  expect(a.code, `${what} (gRPC status ${a.status})`).toMatch(/^[A-Z][A-Z_]+$/);
  expect(a.code, what).not.toBe('INTERNAL');
}

const paramsOf = (issued: GetTicketParamsResponse): TicketParams =>
  ticketParamsCodec.fromMessage(issued.ticketParams);
const randHashOf = (issued: GetTicketParamsResponse) => bytesToHex(paramsOf(issued).recipientRandHash);

/**
 * The built Recipient as a real process, its chain RPC behind a proxy that is stopped while anvil
 * mines blocks and a new round starts. Meanwhile it keeps answering from the last head it read —
 * or with CHAIN_UNAVAILABLE where that head does not tell it enough — and stores what it accepts;
 * once the RPC is back it catches up by itself and nothing is accepted twice.
 */
describe('Recipient process: the chain RPC goes away for some blocks and a round', () => {
  let rx: RecipientBehindProxy;
  let svc: ServiceProcess | undefined;
  let client: RecipientClient;
  let db: pg.Client;
  let redemptions: RedemptionQueue;
  /** Known to the Recipient at the last head before the outage. */
  let a: TestSender;
  /** Has params from before the outage, but was last checked a head earlier. */
  let c: TestSender;
  /** Never seen before the outage. */
  let b: TestSender;
  /** First seen while the RPC hangs. */
  let d: TestSender;
  let paramsA: GetTicketParamsResponse;
  let paramsC: GetTicketParamsResponse;
  let roundAfter: bigint;
  const ticketsA = new Set<string>();

  beforeAll(async () => {
    buildServices();
    rx = await recipientBehindProxy('rpc-outage-recipient', {
      RECIPIENT_PARAMS_EXPIRY_BLOCKS: String(EXPIRY_BLOCKS),
      // The params' record must outlive them: 2 × 200 blocks × 12 s + 60 s.
      RECIPIENT_PARAMS_TTL_SECONDS: '4860',
    });
    [a, b, c, d] = [
      await rx.h.newSender(),
      await rx.h.newSender(),
      await rx.h.newSender(),
      await rx.h.newSender(),
    ];
    svc = await rx.start();
    client = new RecipientClient(rx.grpcUrl, CALL_DEADLINE_MS);
    db = new pg.Client({ connectionString: rx.database.url });
    await db.connect();
    redemptions = openRedemptionQueue(inject('redisUrl'), rx.redisPrefix);
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await svc?.stop();
    await redemptions?.close();
    await db?.end();
    await rx?.stop();
  });

  const anvilBlock = async () => BigInt(await rx.h.anvil.provider.getBlockNumber());

  /** Params issued once the Recipient has read the chain's current head (expiry counts from it). */
  const issueAtHead = (sender: TestSender) =>
    eventually(async () => {
      const issued = await client.getTicketParams({ sender: sender.address, price: PRICE });
      return paramsOf(issued).expirationBlock === (await anvilBlock()) + EXPIRY_BLOCKS ? issued : undefined;
    }, 'params from the current head');

  const pay = (issued: GetTicketParamsResponse, sender: TestSender, nonces: number[], jobId: string) =>
    client.processPayment({ payment: paymentMessage(issued, signBatch(issued, sender, nonces)), jobId });

  const rowsOf = (randHash: string) => winnersOf(db, randHash);

  const jobExists = async (hash: string) => (await redemptions.queue.getJob(hash)) !== undefined;

  it('during the outage every call gets a trusted answer or a coded error; accepted winners are stored and queued', async () => {
    paramsC = await issueAtHead(c);
    // A new head clears the Recipient's sender cache: from here on only A is known at the last head.
    await rx.h.mine(1);
    paramsA = await issueAtHead(a);
    const before = await pay(paramsA, a, [1], 'job-a');
    expect(before.acceptedCount).toBe(1);
    ticketsA.add(bytesToHex(before.tickets[0].ticketHash));

    await rx.proxy.stop();
    // Meanwhile on chain: blocks go by and a new round starts.
    await rx.h.mine(5);
    const owner = new Wallet(ANVIL_PRIVATE_KEYS[0], rx.h.anvil.provider);
    roundAfter = await advanceToNextRound(owner, rx.h.protocol.addresses.roundsManager);
    expect(roundAfter).toBeGreaterThan(paramsOf(paramsA).expirationParams!.creationRound);
    await rx.h.mine(3);
    await untilChainHealth(rx.httpPort, 'down');

    const calls = {
      payA: await answer(pay(paramsA, a, [2, 3], 'job-a')),
      payC: await answer(pay(paramsC, c, [1], 'job-c')),
      paramsA: await answer(client.getTicketParams({ sender: a.address, price: PRICE })),
      paramsB: await answer(client.getTicketParams({ sender: b.address, price: PRICE })),
      multiplierA: await answer(client.txCostMultiplier({ sender: a.address })),
      multiplierB: await answer(client.txCostMultiplier({ sender: b.address })),
      balanceA: await answer(client.balance({ sender: a.address, jobId: 'job-a' })),
      debitA: await answer(
        client.debit({ sender: a.address, jobId: 'job-a', amount: { num: '1', den: '1' } }),
      ),
      ev: await answer(client.ev()),
    };
    for (const [what, reply] of Object.entries(calls)) expectAnsweredOrCoded(what, reply);

    // A's sender facts are the ones read at the last head: still trusted, so A is served from them.
    if (!('ok' in calls.payA)) throw new Error(`A's payment refused: ${calls.payA.code}`);
    expect(calls.payA.ok.acceptedCount).toBe(2);
    expect(calls.payA.ok.winningCount).toBe(2);
    for (const t of calls.payA.ok.tickets) ticketsA.add(bytesToHex(t.ticketHash));
    if (!('ok' in calls.paramsA)) throw new Error(`A's params refused: ${calls.paramsA.code}`);
    // Issued from the last head read: same expiry as before the outage, never a later one.
    expect(paramsOf(calls.paramsA.ok).expirationBlock).toBe(paramsOf(paramsA).expirationBlock);
    expect('ok' in calls.multiplierA).toBe(true);
    expect('ok' in calls.balanceA && 'ok' in calls.debitA && 'ok' in calls.ev).toBe(true);
    // What needs the chain now is refused with a code, and the refused payment recorded nothing.
    expect(calls.payC).toMatchObject({ code: 'CHAIN_UNAVAILABLE' });
    expect(calls.paramsB).toMatchObject({ code: 'CHAIN_UNAVAILABLE' });
    expect(calls.multiplierB).toMatchObject({ code: 'CHAIN_UNAVAILABLE' });
    expect(await rowsOf(randHashOf(paramsC))).toEqual([]);

    // The winners it accepted are in Postgres and have their redemption job.
    const rows = await rowsOf(randHashOf(paramsA));
    expect(rows.map((r) => r.ticket_hash).sort()).toEqual([...ticketsA].sort());
    expect(rows.every((r) => r.status === 'queued')).toBe(true);
    for (const hash of ticketsA) expect(await jobExists(hash)).toBe(true);

    expect((await fetch(`http://127.0.0.1:${rx.httpPort}/health`)).status).toBe(503);
    expect(await grpcHealthCheck(rx.grpcUrl)).toBe('NOT_SERVING');
    expect(svc!.proc.exitCode).toBeNull();
  }, 120_000);

  it('after the RPC returns it catches up alone: new round, payments accepted, none twice', async () => {
    await rx.proxy.start();
    await untilChainHealth(rx.httpPort, 'up');
    expect(await grpcHealthCheck(rx.grpcUrl)).toBe('SERVING');
    const fresh = await issueAtHead(a);
    expect(paramsOf(fresh).expirationParams!.creationRound).toBe(roundAfter);

    const paid = await pay(fresh, a, [1], 'job-a2');
    expect(paid.acceptedCount).toBe(1);
    // The payment refused during the outage recorded nothing: sent again, it is taken now.
    const retried = await pay(paramsC, c, [1], 'job-c');
    expect(retried.acceptedCount).toBe(1);
    expect(await rowsOf(randHashOf(paramsC))).toHaveLength(1);
    expect('ok' in (await answer(client.getTicketParams({ sender: b.address, price: PRICE })))).toBe(true);

    // A replay of what was accepted during the outage is refused and credits nothing.
    const balance = await client.balance({ sender: a.address, jobId: 'job-a' });
    const replay = await pay(paramsA, a, [2, 3], 'job-a');
    expect(replay.acceptedCount).toBe(0);
    expect(replay.tickets.map((t) => t.errorCode)).toEqual(['NONCE_ALREADY_SEEN', 'NONCE_ALREADY_SEEN']);
    expect(ratio(replay.balance)).toBe(ratio(balance.balance));
    expect(await rowsOf(randHashOf(paramsA))).toHaveLength(ticketsA.size);

    const all = await db.query<{ ticket_hash: string }>('SELECT ticket_hash FROM winning_ticket');
    expect(all.rows).toHaveLength(ticketsA.size + 2);
    const jobs = await redemptions.queue.getJobs(['waiting', 'delayed', 'active', 'prioritized']);
    for (const { ticket_hash } of all.rows) {
      expect(jobs.filter((j) => j.id === ticket_hash)).toHaveLength(1);
    }
    expect(svc!.proc.exitCode).toBeNull();
  }, 120_000);

  it('an RPC that hangs instead of refusing: calls still end with a code before their deadline', async () => {
    await rx.proxy.stop();
    const hole = await blackhole(rx.proxy.port);
    try {
      await rx.h.mine(2);
      await untilChainHealth(rx.httpPort, 'down');
      // Side by side, as an orchestrator's calls would come: each must end on its own.
      const [paramsD, multiplierD, ev] = await Promise.all([
        answer(client.getTicketParams({ sender: d.address, price: PRICE })),
        answer(client.txCostMultiplier({ sender: d.address })),
        answer(client.ev()),
      ]);
      const calls = { paramsD, multiplierD, ev };
      for (const [what, reply] of Object.entries(calls)) expectAnsweredOrCoded(what, reply);
      expect(calls.paramsD).toMatchObject({ code: 'CHAIN_UNAVAILABLE' });
      expect(calls.multiplierD).toMatchObject({ code: 'CHAIN_UNAVAILABLE' });
      expect('ok' in calls.ev).toBe(true);
      expect(svc!.proc.exitCode).toBeNull();
    } finally {
      await hole.stop();
      await rx.proxy.start();
    }
    await untilChainHealth(rx.httpPort, 'up');
    const issued = await issueAtHead(d);
    expect((await pay(issued, d, [1], 'job-d')).acceptedCount).toBe(1);
  }, 120_000);

  it('past RECIPIENT_MAX_HEAD_AGE_SECONDS even a known sender is refused until the RPC answers again', async () => {
    client.close();
    await svc!.stop();
    svc = await rx.start({ RECIPIENT_MAX_HEAD_AGE_SECONDS: '3' });
    client = new RecipientClient(rx.grpcUrl, CALL_DEADLINE_MS);
    const issued = await issueAtHead(a);
    expect((await pay(issued, a, [1], 'job-age')).acceptedCount).toBe(1);

    await rx.proxy.stop();
    await untilChainHealth(rx.httpPort, 'down');
    // Within the bound the last head still serves A (its facts were read at that head)…
    const early = await answer(pay(issued, a, [2], 'job-age'));
    expectAnsweredOrCoded('early payment', early);
    await new Promise((r) => setTimeout(r, 3_500));
    // …past it, neither params nor payments are taken from a head that old, and nothing is recorded.
    const late = {
      params: await answer(client.getTicketParams({ sender: a.address, price: PRICE })),
      pay: await answer(pay(issued, a, [3], 'job-age')),
    };
    expect(late.params).toMatchObject({ code: 'CHAIN_UNAVAILABLE' });
    expect(late.pay).toMatchObject({ code: 'CHAIN_UNAVAILABLE' });
    // /health names the cause next to the chain check: the head is too old to judge payments on.
    const health = (await (await fetch(`http://127.0.0.1:${rx.httpPort}/health`)).json()) as {
      details: Record<string, { status: string; message?: string }>;
    };
    expect(health.details.head).toMatchObject({ status: 'down' });
    expect(health.details.head.message).toMatch(/RECIPIENT_MAX_HEAD_AGE_SECONDS/);
    const rows = await rowsOf(randHashOf(issued));

    await rx.proxy.start();
    await untilChainHealth(rx.httpPort, 'up');
    // The refused ticket was not recorded: sent again once the head is read anew, it is accepted.
    const again = await eventually(async () => {
      const reply = await answer(pay(issued, a, [3], 'job-age'));
      return 'ok' in reply ? reply.ok : undefined;
    }, 'the payment to be taken after the outage');
    expect(again.acceptedCount).toBe(1);
    expect(await rowsOf(randHashOf(issued))).toHaveLength(rows.length + 1);
  }, 120_000);
});
