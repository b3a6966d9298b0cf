import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePaymentHeader, paymentCodec, type PaymentMessage } from '#app/proto';
import {
  InMemoryNonceLedger,
  MAX_WIN_PROB,
  receiveTicketBatch,
  ticketBatchFromPayment,
  ticketEV,
  type Payment,
  type PriceInfo,
  type TicketParams,
} from '#app/ticket';
import {
  CONTACT_MAX_PRICE_PER_UNIT,
  DEFAULT_PRICE,
  DEPOSIT,
  OTHER_TOKEN,
  RESERVE,
  TICKET_EV,
  chainView,
  failure,
  freshParams,
  startSenderHarness,
  startSessionRequest,
  type Orchestrator,
  type ParamsOptions,
  type RunningSender,
  type SenderChain,
  type SenderHarness,
} from './sender-fixture.js';

interface StartResponse {
  sessionId: string;
  ev: { num: string; den: string };
  resumed: boolean;
  nonce: number;
  noncesRemaining: number;
  recipientAlias: string;
}

interface BatchResponse {
  payment: PaymentMessage;
  paymentHeader: string;
  firstNonce: number;
  lastNonce: number;
  noncesRemaining: number;
  refreshParams: boolean;
  ev: { num: string; den: string };
}

describe('Sender service', () => {
  let h: SenderHarness;
  let chain: SenderChain;
  let sender: RunningSender;
  let orch: Orchestrator;

  beforeAll(async () => {
    h = await startSenderHarness('sender-spec');
    ({ chain, sender, orch } = h);
  });
  afterAll(() => h?.close());

  /** Fresh params from O for the funded sender, valid for 40 blocks. */
  const params = (overrides: Partial<ParamsOptions> = {}) => freshParams(chain, orch, overrides);
  const startRequest = (
    p: { params: TicketParams; price: PriceInfo },
    senderAddress = chain.funded.address,
  ) => startSessionRequest(p, senderAddress);

  const start = (p: { params: TicketParams; price: PriceInfo }, token?: string) =>
    sender.client.call<StartResponse>('StartSession', startRequest(p), token);
  const batch = (sessionId: string, size: number, client = sender.client) =>
    client.call<BatchResponse>('CreateTicketBatch', { sessionId, size });

  /** O's side: the Recipient library's checks over a received header. */
  async function receive(header: string, ledger = new InMemoryNonceLedger()) {
    const { block, round } = await chainView(chain);
    const ticketBatch = ticketBatchFromPayment(decodePaymentHeader(header));
    expect(ticketBatch).toBeDefined();
    return receiveTicketBatch(
      ticketBatch!,
      {
        recipient: orch.address,
        secret: orch.secret,
        lastSeenL1Block: block,
        lastInitializedRound: round.creationRound,
        senderInfo: { withdrawRound: 0n },
      },
      { ledger },
    );
  }

  describe('batches', () => {
    it('signs a batch the Recipient library accepts, with consecutive nonces from 1', async () => {
      const p = await params();
      const started = await start(p);
      expect(started).toMatchObject({
        resumed: false,
        nonce: 0,
        noncesRemaining: 600,
        recipientAlias: 'orch-a',
      });
      expect(started.sessionId).toBe(
        `${chain.funded.address.toLowerCase()}:0x${Buffer.from(p.params.recipientRandHash).toString('hex')}`,
      );
      expect(started.ev).toEqual(ticketEV(p.params.faceValue, p.params.winProb).toJSON());

      const res = await batch(started.sessionId, 10);
      expect(res).toMatchObject({ firstNonce: 1, lastNonce: 10, noncesRemaining: 590, refreshParams: false });
      const payment: Payment = decodePaymentHeader(res.paymentHeader);
      // The message and the header are the same payment.
      expect(Buffer.from(paymentCodec.encode(paymentCodec.fromMessage(res.payment)))).toEqual(
        Buffer.from(res.paymentHeader, 'base64'),
      );
      expect(payment.ticketSenderParams.map((t) => t.senderNonce)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(payment.expectedPrice).toEqual(p.price);
      expect(Buffer.from(payment.sender!).toString('hex')).toBe(chain.funded.address.slice(2).toLowerCase());
      expect(payment.ticketParams?.expirationParams).toBeUndefined();
      expect(payment.expirationParams?.creationRound).toBe(p.params.expirationParams!.creationRound);

      const received = await receive(res.paymentHeader);
      expect(received).toHaveLength(10);
      expect(received.map((r) => r.error)).toEqual(Array(10).fill(undefined));

      const next = await batch(started.sessionId, 3);
      expect(next).toMatchObject({ firstNonce: 11, lastNonce: 13 });
    });

    it('falls back to its own round view when O sends no expiration params (and O accepts it)', async () => {
      const p = await params({ sendExpirationParams: false });
      const { sessionId } = await start(p);
      const res = await batch(sessionId, 5);
      const received = await receive(res.paymentHeader);
      expect(received.every((r) => r.error === undefined)).toBe(true);
    });

    it('reports the EV, resumes a restarted session, and ends sessions without reusing nonces', async () => {
      const p = await params();
      const { sessionId, ev } = await start(p);
      expect(await sender.client.call('EV', { sessionId })).toEqual({ ev });
      expect(BigInt(ev.num) / BigInt(ev.den)).toBe(TICKET_EV);
      await batch(sessionId, 4);

      const again = await start(p);
      expect(again).toMatchObject({ sessionId, resumed: true, nonce: 4, noncesRemaining: 596 });

      expect(await sender.client.call('EndSession', { sessionId })).toEqual({ ended: true });
      expect(await sender.client.call('EndSession', { sessionId })).toEqual({ ended: false });
      expect(await failure(batch(sessionId, 1))).toMatchObject({
        status: status.NOT_FOUND,
        code: 'SESSION_NOT_FOUND',
      });
      // Same params again: the counter goes on, since O has seen nonces 1..4 already.
      expect(await start(p)).toMatchObject({ resumed: true, nonce: 4 });
      expect(await batch(sessionId, 1)).toMatchObject({ firstNonce: 5, lastNonce: 5 });
    });

    it('refuses different params under an existing recipientRandHash', async () => {
      const p = await params();
      await start(p);
      const tampered = { ...p, params: { ...p.params, faceValue: p.params.faceValue + 1n } };
      expect(await failure(start(tampered))).toMatchObject({
        status: status.ALREADY_EXISTS,
        code: 'SESSION_CONFLICT',
      });
    });

    it('asks for fresh params near the nonce cap and refuses to pass it', async () => {
      const { sessionId } = await start(await params());
      expect(await batch(sessionId, 450)).toMatchObject({ lastNonce: 450, refreshParams: false });
      expect(await batch(sessionId, 60)).toMatchObject({
        lastNonce: 510,
        noncesRemaining: 90,
        refreshParams: true,
      });
      expect(await failure(batch(sessionId, 91))).toMatchObject({
        status: status.RESOURCE_EXHAUSTED,
        code: 'NONCE_CAP_REACHED',
      });
      // Nothing was consumed by the refused batch.
      expect(await batch(sessionId, 90)).toMatchObject({
        firstNonce: 511,
        lastNonce: 600,
        noncesRemaining: 0,
      });
      expect(await failure(batch(sessionId, 1))).toMatchObject({ code: 'NONCE_CAP_REACHED' });
    });

    it('keeps sessions across a restart of the service', async () => {
      const { sessionId } = await start(await params());
      await batch(sessionId, 7);
      sender = await h.restart();
      expect(await batch(sessionId, 2)).toMatchObject({ firstNonce: 8, lastNonce: 9 });
    });
  });

  describe('refusals', () => {
    const cases: {
      name: string;
      params: () => Promise<{ params: TicketParams; price: PriceInfo }>;
      status: status;
      code: string;
      message?: RegExp;
    }[] = [
      {
        name: 'expired params',
        params: async () => params({ expirationBlock: (await chainView(chain)).block }),
        status: status.FAILED_PRECONDITION,
        code: 'PARAMS_EXPIRED',
        message: /TicketParams expired/,
      },
      {
        name: 'expiration block 0',
        params: () => params({ expirationBlock: 0n }),
        status: status.INVALID_ARGUMENT,
        code: 'PARAMS_EXPIRATION_BLOCK_ZERO',
      },
      {
        name: 'winProb 0',
        params: () => params({ winProb: 0n }),
        status: status.INVALID_ARGUMENT,
        code: 'WIN_PROB_ZERO',
      },
      {
        name: 'winProb at MAX (EV = faceValue)',
        params: () => params({ winProb: MAX_WIN_PROB }),
        status: status.INVALID_ARGUMENT,
        code: 'FACE_VALUE_TOO_LOW',
      },
      {
        name: 'EV above maxEV',
        params: () => params({ winProb: MAX_WIN_PROB / 2n }),
        status: status.INVALID_ARGUMENT,
        code: 'EV_TOO_HIGH',
        message: /max ticket EV 3000000000000\.00000/,
      },
      {
        name: 'faceValue above deposit / depositMultiplier',
        params: () => params({ faceValue: DEPOSIT + 1n, winProb: 1n << 200n }),
        status: status.FAILED_PRECONDITION,
        code: 'FACE_VALUE_TOO_HIGH',
      },
      {
        name: 'a recipient missing from the contacts (allowlist on)',
        params: () => params({ recipient: new Uint8Array(20).fill(7) }),
        status: status.PERMISSION_DENIED,
        code: 'RECIPIENT_NOT_ALLOWED',
      },
      {
        name: "a price above the contact's maximum",
        params: () => params({ price: { ...DEFAULT_PRICE, pricePerUnit: CONTACT_MAX_PRICE_PER_UNIT + 1n } }),
        status: status.FAILED_PRECONDITION,
        code: 'PRICE_TOO_HIGH',
      },
      {
        name: 'a price with 0 pixels per unit',
        params: () => params({ price: { ...DEFAULT_PRICE, pixelsPerUnit: 0n } }),
        status: status.INVALID_ARGUMENT,
        code: 'INVALID_PRICE',
      },
    ];
    for (const c of cases) {
      it(`refuses ${c.name} with ${c.code}`, async () => {
        const f = await failure(start(await c.params()));
        expect(f).toMatchObject({ status: c.status, code: c.code });
        if (c.message) expect(f.details).toMatch(c.message);
      });
    }

    it('refuses missing params and a missing price', async () => {
      const p = await params();
      const req = startRequest(p);
      expect(await failure(sender.client.call('StartSession', { ...req, ticketParams: null }))).toMatchObject(
        {
          status: status.INVALID_ARGUMENT,
          code: 'PARAMS_MISSING',
        },
      );
      expect(
        await failure(sender.client.call('StartSession', { ...req, expectedPrice: null })),
      ).toMatchObject({
        status: status.INVALID_ARGUMENT,
        code: 'INVALID_PRICE',
      });
    });

    it('refuses a malformed params field with the proto code', async () => {
      const req = startRequest(await params());
      const f = await failure(
        sender.client.call('StartSession', {
          ...req,
          ticketParams: { ...req.ticketParams, faceValue: new Uint8Array(33).fill(1) },
        }),
      );
      expect(f).toMatchObject({ status: status.INVALID_ARGUMENT, code: 'INVALID_FIELD' });
    });

    it('refuses a sender without reserve', async () => {
      const p = await params({ sender: chain.unfunded });
      const f = await failure(sender.client.call('StartSession', startRequest(p, chain.unfunded.address)));
      expect(f).toMatchObject({ status: status.FAILED_PRECONDITION, code: 'NO_SENDER_RESERVE' });
    });

    it('refuses a batch whose total EV passes maxTotalEV, and bad batch requests', async () => {
      // EV 1e11 per ticket: 200 tickets reach maxTotalEV (2e13) exactly, 201 pass it.
      const p = await params({ faceValue: 10n ** 15n, winProb: MAX_WIN_PROB / 10_000n });
      const { sessionId } = await start(p);
      expect(await failure(batch(sessionId, 201))).toMatchObject({
        status: status.INVALID_ARGUMENT,
        code: 'TOTAL_EV_TOO_HIGH',
      });
      expect(await batch(sessionId, 199)).toMatchObject({ firstNonce: 1, lastNonce: 199 });
      expect(await failure(batch(sessionId, 0))).toMatchObject({ code: 'INVALID_REQUEST' });
      expect(await failure(batch(sessionId, 601))).toMatchObject({ code: 'INVALID_REQUEST' });
      expect(await failure(batch('nope', 1))).toMatchObject({
        status: status.INVALID_ARGUMENT,
        code: 'INVALID_REQUEST',
      });
      const unknown = `${chain.funded.address.toLowerCase()}:0x${'ab'.repeat(32)}`;
      expect(await failure(batch(unknown, 1))).toMatchObject({
        status: status.NOT_FOUND,
        code: 'SESSION_NOT_FOUND',
      });
    });
  });

  describe('API tokens', () => {
    it('refuses calls without a token or with an unknown one', async () => {
      const req = startRequest(await params());
      for (const token of [null, 'not-a-known-token-at-all']) {
        for (const [method, body] of [
          ['StartSession', req],
          ['Senders', {}],
          ['EV', { sessionId: 'x' }],
        ] as const) {
          expect(await failure(sender.client.call(method, body, token))).toMatchObject({
            status: status.UNAUTHENTICATED,
            code: 'UNAUTHENTICATED',
          });
        }
      }
    });

    it("binds a token to its accounts: another client cannot use or drive the funded sender's sessions", async () => {
      const p = await params();
      expect(await failure(start(p, OTHER_TOKEN))).toMatchObject({
        status: status.PERMISSION_DENIED,
        code: 'ACCOUNT_NOT_PERMITTED',
      });
      const { sessionId } = await start(p);
      expect(
        await failure(sender.client.call('CreateTicketBatch', { sessionId, size: 1 }, OTHER_TOKEN)),
      ).toMatchObject({ code: 'ACCOUNT_NOT_PERMITTED' });
      expect(await failure(sender.client.call('EndSession', { sessionId }, OTHER_TOKEN))).toMatchObject({
        code: 'ACCOUNT_NOT_PERMITTED',
      });
    });

    it('lists only the caller’s accounts with their on-chain deposit and reserve', async () => {
      const mine = await sender.client.call<{ senders: Record<string, unknown>[] }>('Senders', {});
      const byAddress = new Map(
        mine.senders.map((s) => [`0x${Buffer.from(s.address as Uint8Array).toString('hex')}`, s]),
      );
      expect([...byAddress.keys()].sort()).toEqual(
        [chain.funded.address.toLowerCase(), chain.unfunded.address.toLowerCase()].sort(),
      );
      expect(byAddress.get(chain.funded.address.toLowerCase())).toMatchObject({
        deposit: DEPOSIT.toString(),
        reserve: RESERVE.toString(),
        withdrawRound: '0',
      });
      expect(byAddress.get(chain.unfunded.address.toLowerCase())).toMatchObject({
        deposit: '0',
        reserve: '0',
      });

      const other = await sender.client.call<{ senders: Record<string, unknown>[] }>(
        'Senders',
        {},
        OTHER_TOKEN,
      );
      expect(other.senders).toHaveLength(1);
    });

    it('a sole-account token may leave the sender out', async () => {
      const p = await params({ sender: chain.unfunded });
      const req = { ...startRequest(p), sender: new Uint8Array(0) };
      // The unfunded account is OTHER_TOKEN's only one: it is chosen, then refused for its funds.
      expect(await failure(sender.client.call('StartSession', req, OTHER_TOKEN))).toMatchObject({
        code: 'NO_SENDER_RESERVE',
      });
      expect(await failure(sender.client.call('StartSession', req))).toMatchObject({
        code: 'INVALID_REQUEST',
      });
    });
  });

  describe('health and metrics', () => {
    it('is healthy and counts tickets, EV, sessions and errors', async () => {
      const health = await fetch(`${sender.httpUrl}/health`);
      expect(health.status).toBe(200);
      const { sessionId } = await start(await params());
      await batch(sessionId, 5);
      await failure(batch(sessionId, 0));
      const metrics = await (await fetch(`${sender.httpUrl}/metrics`)).text();
      const funded = chain.funded.address.toLowerCase();
      const recipient = chain.recipient.address.toLowerCase();
      expect(metrics).toMatch(
        new RegExp(
          `ticketpay_sender_tickets_sent_total\\{sender="${funded}",recipient="${recipient}"[^}]*\\} \\d+`,
        ),
      );
      expect(metrics).toMatch(
        new RegExp(`ticketpay_ticket_value_sent_wei\\{recipient="${recipient}"[^}]*\\} \\d`),
      );
      expect(metrics).toMatch(
        /ticketpay_sender_sessions_started_total\{sender="0x[0-9a-f]{40}",outcome="created"/,
      );
      expect(metrics).toMatch(
        /ticketpay_sender_errors_total\{method="CreateTicketBatch",domain="sender",code="INVALID_REQUEST"[^}]*\} \d+/,
      );
      expect(metrics).toMatch(/ticketpay_sender_accounts\{[^}]*\} 2/);
    });
  });
});
