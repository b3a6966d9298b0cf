import { status, type ServiceError } from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ticketBrokerAt } from '#app/chain';
import { ConfigError } from '#app/common';
import { decodePaymentHeader } from '#app/proto';
import { rejectionOf } from '#app/testing';
import { ticketBatchFromPayment } from '#app/ticket';
import {
  DEPOSIT,
  FUNDED_SENDER_KEY,
  GATEWAY_TOKEN,
  KEYSTORE_PASSWORD,
  RESERVE,
  bootSender,
  failure,
  freshParams,
  newOrchestrator,
  senderEnv,
  startSenderChain,
  startSessionRequest,
  writeSenderFiles,
  type Env,
  type Orchestrator,
  type RunningSender,
  type SenderChain,
  type SenderFiles,
} from './sender-fixture.js';

const LIMIT = 20;

interface BatchResponse {
  paymentHeader: string;
  firstNonce: number;
  lastNonce: number;
}

/** Waits for the start of the next one-second window, so a test's calls share one window. */
async function nextWindow(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1_000 - (Date.now() % 1_000) + 20));
}

/** Two Sender replicas sharing Redis, each account capped at LIMIT signed tickets per second. */
describe('Sender: per-account tickets-per-second cap, shared by replicas', () => {
  let chain: SenderChain;
  let files: SenderFiles;
  let env: Env;
  let prefix: string;
  let redis: Redis;
  let orch: Orchestrator;
  let a: RunningSender;
  let b: RunningSender;

  beforeAll(async () => {
    chain = await startSenderChain();
    // Both accounts funded here, to show one account's full window leaves the other's alone.
    const broker = ticketBrokerAt(chain.protocol.addresses.ticketBroker, chain.unfunded);
    await (await broker.fundDepositAndReserve(DEPOSIT, RESERVE, { value: DEPOSIT + RESERVE })).wait();
    files = await writeSenderFiles(chain);
    prefix = `${inject('redisPrefix')}sender-rate-limit:`;
    env = senderEnv(
      chain,
      files,
      { url: inject('redisUrl'), prefix },
      { SENDER_MAX_TICKETS_PER_SECOND_PER_SENDER: String(LIMIT), SENDER_MAX_BATCH_SIZE: String(LIMIT) },
    );
    [a, b] = [await bootSender(env), await bootSender(env)];
    redis = new Redis(inject('redisUrl'));
    orch = newOrchestrator(chain.recipient);
  });
  afterAll(async () => {
    await Promise.all([a, b].map((r) => r?.close()));
    await redis?.quit();
    await chain?.stop();
    files?.cleanup();
  });

  /** Starts a session with fresh params for `account` (funded by default) on replica `r`. */
  async function startSession(r: RunningSender, account = chain.funded): Promise<string> {
    const p = await freshParams(chain, orch, { sender: account });
    const res = await r.client.call<{ sessionId: string }>(
      'StartSession',
      startSessionRequest(p, account.address),
    );
    return res.sessionId;
  }

  const batch = (r: RunningSender, sessionId: string, size: number) =>
    r.client.call<BatchResponse>('CreateTicketBatch', { sessionId, size });

  /** Every key of this file's Redis prefix with its value (hashes field by field, bytes as hex). */
  async function redisState(): Promise<Record<string, unknown>> {
    const state: Record<string, unknown> = {};
    for (const key of await redis.keys(`${prefix}*`)) {
      const type = await redis.type(key);
      if (type === 'hash') {
        const fields = await redis.hgetallBuffer(key);
        state[key] = Object.fromEntries(Object.entries(fields).map(([f, v]) => [f, v.toString('hex')]));
      } else {
        state[key] = type === 'string' ? await redis.get(key) : type;
      }
    }
    return state;
  }

  /** Tickets signed, by the replicas' counters. */
  async function ticketsSent(): Promise<number> {
    let total = 0;
    for (const r of [a, b]) {
      const text = await (await fetch(`${r.httpUrl}/metrics`)).text();
      for (const m of text.matchAll(/^ticketpay_sender_tickets_sent_total\{[^}]*\} (\d+)$/gm))
        total += Number(m[1]);
    }
    return total;
  }

  it('refuses a batch past the cap with RATE_LIMITED, consuming nothing, and goes on the next second', async () => {
    const sessionId = await startSession(a);
    await nextWindow();
    expect(await batch(a, sessionId, 15)).toMatchObject({ firstNonce: 1, lastNonce: 15 });
    const sentBefore = await ticketsSent();
    const before = await redisState();

    const refused = await failure(batch(b, sessionId, 6));
    expect(refused).toMatchObject({ status: status.RESOURCE_EXHAUSTED, code: 'RATE_LIMITED' });
    expect(refused.details).toContain(`may have ${LIMIT} tickets signed per second`);
    expect(refused.details).toMatch(/has had 15 this second, so a batch of 6 does not fit: retry in \d+ ms/);
    for (const secret of [KEYSTORE_PASSWORD, GATEWAY_TOKEN, FUNDED_SENDER_KEY, FUNDED_SENDER_KEY.slice(2)]) {
      expect(refused.details).not.toContain(secret);
    }
    // No nonce, no window count, no ticket: Redis is byte for byte as it was, the counters too.
    expect(await redisState()).toEqual(before);
    expect(await ticketsSent()).toBe(sentBefore);

    // A batch larger than the largest allowed is refused as invalid and consumes nothing either.
    expect(await failure(batch(b, sessionId, LIMIT + 1))).toMatchObject({ code: 'INVALID_REQUEST' });
    expect(await redisState()).toEqual(before);

    // What is left of the window is still whole: 5 more fit exactly, right after nonce 15.
    expect(await batch(b, sessionId, 5)).toMatchObject({ firstNonce: 16, lastNonce: 20 });
    expect(await failure(batch(a, sessionId, 1))).toMatchObject({ code: 'RATE_LIMITED' });

    await nextWindow();
    expect(await batch(b, sessionId, LIMIT)).toMatchObject({ firstNonce: 21, lastNonce: 40 });
    expect(await ticketsSent()).toBe(sentBefore + 5 + LIMIT);
    const metrics = await (await fetch(`${b.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /ticketpay_sender_errors_total\{method="CreateTicketBatch",domain="sender",code="RATE_LIMITED"[^}]*\} \d+/,
    );
  });

  it('gives both replicas one budget: concurrent batches get exactly the cap, with contiguous nonces', async () => {
    const sessionId = await startSession(a);
    await nextWindow();
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        batch(i % 2 === 0 ? a : b, sessionId, 5).then(
          (res) => ({ res }),
          (err: ServiceError) => ({ code: String(err.metadata.get('error-code')[0]) }),
        ),
      ),
    );
    const granted = outcomes.flatMap((o) => ('res' in o ? [o.res] : []));
    expect(granted).toHaveLength(LIMIT / 5);
    expect(outcomes.flatMap((o) => ('code' in o ? [o.code] : []))).toEqual(Array(4).fill('RATE_LIMITED'));
    const nonces = granted
      .flatMap((g) => ticketBatchFromPayment(decodePaymentHeader(g.paymentHeader))!.senderParams)
      .map((t) => t.senderNonce)
      .sort((x, y) => x - y);
    expect(nonces).toEqual(Array.from({ length: LIMIT }, (_, i) => i + 1));

    await nextWindow();
    expect(await batch(b, sessionId, 5)).toMatchObject({ firstNonce: LIMIT + 1, lastNonce: LIMIT + 5 });
  });

  it('caps each account on its own, and gives back the tickets of a batch refused after the check', async () => {
    const funded = await startSession(a);
    const other = await startSession(a, chain.unfunded);
    const ending = await startSession(b);
    await nextWindow();
    expect(await batch(a, funded, LIMIT)).toMatchObject({ lastNonce: LIMIT });
    expect(await failure(batch(b, funded, 1))).toMatchObject({ code: 'RATE_LIMITED' });
    expect(await batch(b, other, LIMIT)).toMatchObject({ lastNonce: LIMIT });

    await nextWindow();
    // Replica b knows the session's params; ended on replica a, b finds out only when it reserves
    // nonces, after the tickets were taken from the budget, and must hand them back.
    expect(await batch(b, ending, 5)).toMatchObject({ lastNonce: 5 });
    expect(await a.client.call('EndSession', { sessionId: ending })).toEqual({ ended: true });
    expect(await failure(batch(b, ending, 15))).toMatchObject({ code: 'SESSION_NOT_FOUND' });
    expect(await batch(a, funded, 15)).toMatchObject({ firstNonce: LIMIT + 1, lastNonce: LIMIT + 15 });
  });

  it('refuses to boot with a largest batch above the cap (such a batch could never be signed)', async () => {
    const err = await rejectionOf(
      bootSender({ ...env, SENDER_MAX_BATCH_SIZE: String(LIMIT + 1) }),
      ConfigError,
    );
    expect(err.problems).toContain(
      `SENDER_MAX_BATCH_SIZE (${LIMIT + 1}) must not exceed SENDER_MAX_TICKETS_PER_SECOND_PER_SENDER (${LIMIT})`,
    );
  });
});
