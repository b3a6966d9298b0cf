import { Validator } from '@seriousme/openapi-schema-validator';
import { Wallet, parseEther } from 'ethers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WinningTicketStatus } from '#app/database';
import type { SignedTicket } from '#app/ticket';
import { signRequest, type MessageSigner } from '../../../apps/ops/src/auth/request-signature.js';
import { OPENAPI_DOCUMENT } from '../../../apps/ops/src/docs/openapi.document.js';
import { eventually, hashOf } from '../redeemer/redeemer-fixture.js';
import { OPS_TOKEN, startOpsStack, type OpsStack } from './ops-stack.js';

const ETH = parseEther('1');
const CENTI = ETH / 100n;

/** The ops API against the real SenderMonitor, Redeemer, Postgres, Redis and anvil. */
describe('ops API', () => {
  let s: OpsStack;
  let sender: Wallet;
  let redeemedTickets: SignedTicket[];
  let waitingTicket: SignedTicket;

  const call = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const { token = OPS_TOKEN, ...rest } = init;
    return fetch(`${s.opsUrl}${path}`, {
      ...rest,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(rest.headers as Record<string, string> | undefined),
      },
    });
  };
  const get = async <T = Record<string, unknown>>(path: string): Promise<T> => {
    const res = await call(path);
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };

  beforeAll(async () => {
    s = await startOpsStack('ops-int');
    sender = await s.fx.newSender(ETH, ETH);
    redeemedTickets = [await s.fx.ticket(sender, 2n * CENTI), await s.fx.ticket(sender, 3n * CENTI)];
    // Params that expire far ahead: the Redeemer must keep this one waiting (unclaimed).
    waitingTicket = await s.fx.ticket(sender, 5n * CENTI, {
      expirationBlock: (await s.fx.blockNumber()) + 100_000n,
    });
    for (const t of [...redeemedTickets, waitingTicket]) await s.intake.accept(t);
    for (const t of redeemedTickets) {
      await eventually(
        async () => {
          const r = await get<{ status: WinningTicketStatus }>(`/api/v1/tickets/${hashOf(t)}`);
          return r.status === WinningTicketStatus.REDEEMED ? r : undefined;
        },
        `${hashOf(t)} redeemed`,
      );
    }
  });

  afterAll(async () => {
    await s?.stop();
  });

  it('serves an OpenAPI document that validates, and every documented route exists', async () => {
    const doc = await get('/docs/openapi.json');
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc).toEqual(JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)));
    const ui = await call('/docs', { token: null });
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger-ui');
    for (const [path, ops] of Object.entries(OPENAPI_DOCUMENT.paths)) {
      for (const method of Object.keys(ops)) {
        const concrete = path
          .replace('{ticketHash}', hashOf(waitingTicket))
          .replace('{address}', sender.address);
        const res = await call(concrete, { method: method.toUpperCase(), token: 'wrong-token-wrong-token' });
        expect(res.status, `${method} ${path}`).toBe(401);
      }
    }
  });

  it('answers 401 without a valid token, on every route and on Bull Board', async () => {
    for (const path of [
      '/api/v1/tickets',
      '/api/v1/senders',
      '/api/v1/totals',
      '/api/v1/queue',
      '/api/v1/redemptions',
    ]) {
      const res = await call(path, { token: null });
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(((await res.json()) as { code: string }).code).toBe('UNAUTHORIZED');
    }
    const post = await call(`/api/v1/tickets/${hashOf(waitingTicket)}/redeem`, {
      method: 'POST',
      token: null,
      body: '{}',
    });
    expect(post.status).toBe(401);
    expect((await fetch(`${s.opsUrl}/queues`)).status).toBe(401);
    const board = await fetch(`${s.opsUrl}/queues`, { headers: { cookie: `ops_token=${OPS_TOKEN}` } });
    expect(board.status).toBe(200);
    expect(await board.text()).toMatch(/<html/i);
  });

  it('lists the winners by status group, sender and page', async () => {
    type List = {
      total: number;
      tickets: {
        ticketHash: string;
        status: string;
        statusGroup: string;
        faceValue: string;
        txUrl: string | null;
      }[];
    };
    const all = await get<List>(`/api/v1/tickets?sender=${sender.address}`);
    expect(all.total).toBe(3);
    const redeemed = await get<List>(`/api/v1/tickets?status=redeemed&sender=${sender.address}`);
    expect(redeemed.tickets.map((t) => t.ticketHash).sort()).toEqual(redeemedTickets.map(hashOf).sort());
    expect(redeemed.tickets[0].txUrl).toMatch(/^https:\/\/explorer\.example\/tx\/0x[0-9a-f]{64}$/);
    const unclaimed = await get<List>(`/api/v1/tickets?status=unclaimed&recipient=${s.fx.recipient.address}`);
    expect(unclaimed.tickets.map((t) => t.ticketHash)).toEqual([hashOf(waitingTicket)]);
    expect(unclaimed.tickets[0]).toMatchObject({
      statusGroup: 'unclaimed',
      faceValue: (5n * CENTI).toString(),
    });
    const paged = await get<List>(`/api/v1/tickets?sender=${sender.address}&limit=1&offset=1`);
    expect(paged.tickets).toHaveLength(1);
    expect(paged.total).toBe(3);
    const bad = await call('/api/v1/tickets?status=paid');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('INVALID_REQUEST');

    const detail = await get<{ transactions: { purpose: string; status: string; gasCost: string }[] }>(
      `/api/v1/tickets/${hashOf(redeemedTickets[0])}`,
    );
    expect(detail.transactions[0]).toMatchObject({ status: 'mined' });
    expect(BigInt(detail.transactions[0].gasCost)).toBeGreaterThan(0n);
    expect(JSON.stringify(detail)).not.toMatch(/recipientRand"|"sig"/);
    expect((await call(`/api/v1/tickets/0x${'ab'.repeat(32)}`)).status).toBe(404);
  });

  it('shows the redemption history with tx links, and totals with gas spent', async () => {
    const history = await get<{
      redemptions: { ticketHash: string; outcome: string; amountPaid: string; txUrl: string }[];
    }>(`/api/v1/redemptions?sender=${sender.address}`);
    expect(history.redemptions).toHaveLength(2);
    for (const r of history.redemptions) {
      expect(r.outcome).toBe('redeemed');
      expect(r.txUrl).toMatch(/^https:\/\/explorer\.example\/tx\/0x/);
    }
    const totals = await get<{
      evReceived: { wei: string; source: string };
      winning: { count: number; faceValue: string };
      redeemed: { count: number; faceValue: string; amountPaid: string };
      gasSpent: { redemptionWei: string };
    }>(`/api/v1/totals?recipient=${s.fx.recipient.address}`);
    expect(totals.winning).toEqual({ count: 3, faceValue: (10n * CENTI).toString() });
    expect(totals.redeemed).toEqual({
      count: 2,
      faceValue: (5n * CENTI).toString(),
      amountPaid: (5n * CENTI).toString(),
    });
    expect(totals.evReceived).toEqual({ wei: (10n * CENTI).toString(), source: 'winning-tickets-estimate' });
    expect(BigInt(totals.gasSpent.redemptionWei)).toBeGreaterThan(0n);

    const series = await get<{ buckets: { winning: number; redeemed: number }[] }>(
      '/api/v1/timeseries?window=600&bucket=60',
    );
    expect(series.buckets.reduce((n, b) => n + b.winning, 0)).toBe(3);
    expect(series.buckets.reduce((n, b) => n + b.redeemed, 0)).toBe(2);
    const queue = await get<{ tickets: { unclaimed: number } }>('/api/v1/queue');
    expect(queue.tickets.unclaimed).toBe(1);
    const failures = await get<{ final: unknown[] }>('/api/v1/failures');
    expect(failures.final).toEqual([]);
  });

  it('shows senders with deposit, reserve and max float from the SenderMonitor', async () => {
    const one = await get<{
      deposit: string;
      reserve: string;
      maxFloat: string;
      valid: boolean;
      monitorError: null;
      tickets: { won: number };
    }>(`/api/v1/senders/${sender.address}`);
    expect(one.monitorError).toBeNull();
    // The two redeemed tickets were paid from the deposit.
    expect(one.deposit).toBe((ETH - 5n * CENTI).toString());
    expect(one.valid).toBe(true);
    expect(BigInt(one.reserve)).toBeGreaterThan(0n);
    expect(one.maxFloat).toMatch(/^-?\d+$/);
    expect(one.tickets.won).toBe(3);
    const list = await get<{ senders: { sender: string }[] }>('/api/v1/senders');
    expect(list.senders.map((x) => x.sender)).toContain(sender.address.toLowerCase());
    // The monitor exports the shared go-livepeer-style series (max float per tracked sender, gas price).
    const metrics = await (await fetch(`${s.monitorUrl}/metrics`)).text();
    expect(metrics).toContain('# TYPE ticketpay_max_float_wei gauge');
    expect(metrics).toMatch(/^ticketpay_gas_price_wei\{service="sender-monitor"\} [1-9]\d*$/m);
  });

  describe('signed redemption requests', () => {
    const path = () => `/api/v1/tickets/${hashOf(waitingTicket)}/redeem`;
    const signed = async (signer: MessageSigner, block: bigint, body: unknown = {}) =>
      call(path(), {
        method: 'POST',
        token: null,
        body: JSON.stringify(body),
        headers: await signRequest(signer, { method: 'POST', path: path(), body, block }),
      });
    const code = async (res: Response) => (await res.json()) as { code: string; message: string };

    // Signatures are deterministic: a new block per test keeps one test's request from being
    // another's replay.
    beforeEach(async () => {
      await s.fx.mine(1);
    });

    it('starts a redemption when signed by the recipient over a recent block', async () => {
      const res = await signed(s.fx.recipient, await s.fx.blockNumber());
      expect(res.status).toBe(202);
      const body = (await res.json()) as { ticketHash: string; job: string };
      expect(body.ticketHash).toBe(hashOf(waitingTicket));
      expect(['promoted', 'enqueued', 'unchanged']).toContain(body.job);
    });

    it('refuses a replayed signature', async () => {
      const block = await s.fx.blockNumber();
      const headers = await signRequest(s.fx.recipient, { method: 'POST', path: path(), body: {}, block });
      const send = () => call(path(), { method: 'POST', token: null, body: '{}', headers });
      expect((await send()).status).toBe(202);
      const again = await send();
      expect(again.status).toBe(401);
      expect((await code(again)).code).toBe('SIGNATURE_REPLAYED');
    });

    it('refuses a signature over a block more than 5 behind the head with STALE_BLOCK', async () => {
      const block = await s.fx.blockNumber();
      await s.fx.mine(6);
      const res = await signed(s.fx.recipient, block);
      expect(res.status).toBe(401);
      const body = await code(res);
      expect(body.code).toBe('STALE_BLOCK');
      expect(body.message).toMatch(/6 blocks behind the head/);
    });

    it('refuses a block ahead of the head, another signer, and a body that was not signed', async () => {
      const head = await s.fx.blockNumber();
      expect((await code(await signed(s.fx.recipient, head + 10n))).code).toBe('BLOCK_AHEAD');
      expect((await code(await signed(Wallet.createRandom(), head))).code).toBe('BAD_SIGNATURE');
      const headers = await signRequest(s.fx.recipient, {
        method: 'POST',
        path: path(),
        body: {},
        block: head,
      });
      const tampered = await call(path(), {
        method: 'POST',
        token: null,
        body: JSON.stringify({ ignoreGasLimits: true }),
        headers,
      });
      expect((await code(tampered)).code).toBe('BAD_SIGNATURE');
    });

    it('does not accept signatures on read endpoints', async () => {
      const headers = await signRequest(s.fx.recipient, {
        method: 'GET',
        path: '/api/v1/tickets',
        body: {},
        block: await s.fx.blockNumber(),
      });
      expect((await call('/api/v1/tickets', { token: null, headers })).status).toBe(401);
    });

    it('answers 409 TICKET_FINAL for a redeemed ticket', async () => {
      const res = await call(`/api/v1/tickets/${hashOf(redeemedTickets[0])}/redeem`, {
        method: 'POST',
        body: '{}',
      });
      expect(res.status).toBe(409);
      expect((await code(res)).code).toBe('TICKET_FINAL');
    });
  });

  it('serves /health with Postgres, Redis and chain, and /metrics', async () => {
    const health = (await (await fetch(`${s.opsUrl}/health`)).json()) as {
      status: string;
      info: Record<string, unknown>;
    };
    expect(health.status).toBe('ok');
    expect(Object.keys(health.info).sort()).toEqual(['chain', 'database', 'redis']);
    expect(await (await fetch(`${s.opsUrl}/metrics`)).text()).toMatch(/service="ops"/);
  });
});
