import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capabilityModelsCodec, decodePaymentHeader, segDataCodec } from '#app/proto';
import {
  balanceAfter,
  bytesToHex,
  EMPTY_SEGMENT_HASH,
  hexToBytes,
  keccak256,
  nobleBackend,
  orchestratorInfoPayload,
  parseRatString,
  personalDigest,
  Rational,
  segmentFlatten,
  ticketEV,
  type PriceInfo,
  type TicketParams,
} from '#app/ticket';
import {
  authToken,
  b64,
  errorCode,
  errorMessage,
  issuedNonce,
  ORCH_URL,
  orchestratorInfo,
  postJson,
  sealState,
  startWebhook,
  STATE_SECRET,
  stateOf,
  type FakeWebhook,
  type HttpAnswer,
} from './remote-signer-fixture.js';
import {
  bootSender,
  CONTACT_MAX_PRICE_PER_UNIT,
  DEFAULT_PRICE,
  failure,
  freshParams,
  newOrchestrator,
  senderEnv,
  startSenderChain,
  startSenderHarness,
  testRedis,
  writeSenderFiles,
  type Env,
  type Orchestrator,
  type ParamsOptions,
  type RunningSender,
  type SenderChain,
  type SenderFiles,
  type SenderHarness,
} from './sender-fixture.js';

const LIVE_TOKEN = 'live-token-0123456789abcdef';
const CAPPED_TOKEN = 'capped-token-0123456789abcdef';
const MULTI_TOKEN = 'multi-token-0123456789abcdef';

type Params = { params: TicketParams; price: PriceInfo };

describe('Sender as a go-livepeer remote signer', () => {
  let h: SenderHarness;
  let chain: SenderChain;
  let files: SenderFiles;
  let base: Env;
  let signer: RunningSender;
  let orch: Orchestrator;
  let funded: string;

  beforeAll(async () => {
    h = await startSenderHarness('remote-signer', {
      tokens: {
        file: 'signer-tokens.yaml',
        clients: (c) => [
          { name: 'live', token: LIVE_TOKEN, senders: [c.funded.address] },
          // two tickets of EV 1 gwei fit, a third does not
          { name: 'capped', token: CAPPED_TOKEN, senders: [c.funded.address], maxEV: '2500000000' },
          { name: 'multi', token: MULTI_TOKEN, senders: [c.funded.address, c.unfunded.address] },
        ],
      },
      env: {
        SENDER_REMOTE_SIGNER: 'true',
        SENDER_REMOTE_SIGNER_STATE_SECRET: STATE_SECRET,
        SENDER_REMOTE_SIGNER_MAX_PRICE: '800',
        SENDER_REMOTE_SIGNER_MAX_PRICE_PER_CAPABILITY: JSON.stringify({
          capabilities_prices: [
            {
              pipeline: 'live-video-to-video',
              model_id: 'pricey-model',
              price_per_unit: 1000,
              pixels_per_unit: 1,
            },
            { pipeline: 'text-to-image', model_id: 'cheap-model', price_per_unit: 200, pixels_per_unit: 1 },
          ],
        }),
      },
    });
    ({ chain, files, env: base, sender: signer, orch, funded } = h);
  });
  afterAll(() => h?.close());

  const params = (overrides: Partial<ParamsOptions> = {}, validFor = 40n) =>
    freshParams(chain, orch, overrides, validFor);
  const pay = (body: unknown, token = LIVE_TOKEN, headers: Record<string, string> = {}) =>
    postJson(`${signer.httpUrl}/generate-live-payment`, body, {
      Authorization: `Bearer ${token}`,
      ...headers,
    });
  const request = (p: Params, extra: Record<string, unknown> = {}) => ({
    orchestrator: b64(orchestratorInfo(p)),
    ManifestID: 'manifest-1',
    inPixels: 1000,
    ...extra,
  });
  const nonceOf = (p: Params) => issuedNonce(signer.app, funded, p.params.recipientRandHash);
  const evOf = (p: Params) => ticketEV(p.params.faceValue, p.params.winProb);

  function payment(a: HttpAnswer) {
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    return decodePaymentHeader(a.body.payment as string);
  }

  describe('sign-orchestrator-info', () => {
    it('answers the EIP-55 address and its GetOrchestrator signature, as go-livepeer does', async () => {
      const a = await postJson(
        `${signer.httpUrl}/sign-orchestrator-info`,
        {},
        { Authorization: `Bearer ${LIVE_TOKEN}` },
      );
      expect(a.status).toBe(200);
      expect(a.body.address).toBe(chain.funded.address);
      const sig = hexToBytes(a.body.signature as string, 'signature', 65);
      const digest = personalDigest(keccak256(orchestratorInfoPayload(hexToBytes(funded, 'a', 20))));
      expect(bytesToHex(nobleBackend.recoverAddress(digest, sig)!)).toBe(funded);
    });

    it('needs a token once tokens are configured, and a sender when the token has several', async () => {
      const none = await postJson(`${signer.httpUrl}/sign-orchestrator-info`, {});
      expect(none.status).toBe(401);
      expect(errorCode(none)).toBe('UNAUTHENTICATED');
      const multi = await postJson(
        `${signer.httpUrl}/sign-orchestrator-info`,
        {},
        { Authorization: `Bearer ${MULTI_TOKEN}` },
      );
      expect(multi.status).toBe(400);
      const chosen = await postJson(
        `${signer.httpUrl}/sign-orchestrator-info`,
        {},
        { Authorization: `Bearer ${MULTI_TOKEN}`, 'Ticketpay-Sender': chain.unfunded.address },
      );
      expect(chosen.body.address).toBe(chain.unfunded.address);
      const other = await postJson(
        `${signer.httpUrl}/sign-orchestrator-info`,
        {},
        { Authorization: `Bearer ${LIVE_TOKEN}`, 'Ticketpay-Sender': chain.unfunded.address },
      );
      expect(other.status).toBe(403);
      expect(errorCode(other)).toBe('ACCOUNT_NOT_PERMITTED');
    });
  });

  // go-livepeer TestGenerateLivePayment_RequestValidationErrors, case by case: each is refused
  // with a clear code, and no nonce is taken (asserted on the session's counter in Redis).
  describe('TestGenerateLivePayment_RequestValidationErrors', () => {
    type Case = {
      name: string;
      body: (p: Params) => unknown;
      status: number;
      code: string;
      message?: string;
      header?: string;
      validFor?: bigint;
    };
    const cases: Case[] = [
      { name: 'invalid JSON', body: () => '{not-json', status: 400, code: 'INVALID_REQUEST' },
      {
        name: 'missing orchestrator blob',
        body: () => ({ inPixels: 1 }),
        status: 400,
        code: 'INVALID_REQUEST',
        message: 'missing orchestrator',
      },
      {
        name: 'orchestrator blob not protobuf',
        body: () => ({ orchestrator: b64('not-proto'), inPixels: 1 }),
        status: 400,
        code: 'INVALID_REQUEST',
        message: 'net.OrchestratorInfo',
      },
      {
        name: 'missing price info',
        body: (p) => ({ orchestrator: b64(orchestratorInfo(p, { priceInfo: undefined })), inPixels: 1 }),
        status: 400,
        code: 'INVALID_REQUEST',
        message: 'missing or zero priceInfo',
      },
      {
        name: 'zero price per unit',
        body: (p) => ({
          orchestrator: b64(orchestratorInfo(p, { priceInfo: { ...DEFAULT_PRICE, pricePerUnit: 0n } })),
          inPixels: 1,
        }),
        status: 400,
        code: 'INVALID_REQUEST',
        message: 'missing or zero priceInfo',
      },
      {
        name: 'zero pixels per unit',
        body: (p) => ({
          orchestrator: b64(orchestratorInfo(p, { priceInfo: { ...DEFAULT_PRICE, pixelsPerUnit: 0n } })),
          inPixels: 1,
        }),
        status: 400,
        code: 'INVALID_REQUEST',
        message: 'missing or zero priceInfo',
      },
      {
        name: 'negative price',
        body: (p) => ({
          orchestrator: b64(orchestratorInfo(p, { priceInfo: { ...DEFAULT_PRICE, pricePerUnit: -5n } })),
          inPixels: 1,
        }),
        status: 400,
        code: 'INVALID_REQUEST',
      },
      {
        name: 'missing ticket params',
        body: (p) => ({ orchestrator: b64(orchestratorInfo(p, { ticketParams: undefined })), inPixels: 1 }),
        status: 400,
        code: 'INVALID_REQUEST',
        message: 'missing ticketParams in OrchestratorInfo',
      },
      {
        name: 'missing auth token',
        body: (p) => ({ orchestrator: b64(orchestratorInfo(p, { authToken: undefined })), inPixels: 1 }),
        status: 400,
        code: 'INVALID_REQUEST',
        message: 'remote signer could not check whether to refresh session',
      },
      {
        name: 'auth token expired triggers 480',
        body: (p) => ({ orchestrator: b64(orchestratorInfo(p, { authToken: authToken(-60) })), inPixels: 1 }),
        status: 480,
        code: 'REFRESH_SESSION',
        message: 'refresh session for remote signer',
        header: ORCH_URL,
      },
      {
        name: 'ticket params expired triggers 480',
        body: (p) => request(p),
        validFor: 1n,
        status: 480,
        code: 'REFRESH_SESSION',
        message: 'refresh session for remote signer',
        header: ORCH_URL,
      },
      {
        name: 'invalid job type',
        body: (p) => request(p, { type: 'bogus' }),
        status: 400,
        code: 'INVALID_REQUEST',
        message: 'invalid job type',
      },
      {
        name: 'missing pixels without type',
        body: (p) => request(p, { inPixels: 0 }),
        status: 400,
        code: 'INVALID_REQUEST',
        message: 'missing billable unit or job type',
      },
      {
        name: 'negative pixels',
        body: (p) => request(p, { inPixels: -1000 }),
        status: 400,
        code: 'INVALID_REQUEST',
      },
      {
        name: 'huge inPixels',
        body: (p) => request(p, { inPixels: 1e300 }),
        status: 400,
        code: 'INVALID_REQUEST',
        message: 'inPixels',
      },
      {
        // 500 wei per pixel and 1 gwei tickets: 202 000 000 pixels need 101 tickets.
        name: 'num tickets exceeds limit',
        body: (p) => request(p, { inPixels: 202_000_000 }),
        status: 400,
        code: 'TOO_MANY_TICKETS',
        message: 'exceeds maximum of 100',
      },
      {
        name: 'invalid capabilities protobuf',
        body: (p) => request(p, { type: 'lv2v', capabilities: b64('not-valid-protobuf') }),
        status: 400,
        code: 'MALFORMED_MESSAGE',
      },
      {
        name: 'capabilities not base64',
        body: (p) => request(p, { capabilities: '%%%' }),
        status: 400,
        code: 'INVALID_REQUEST',
      },
      {
        name: 'orchestrator price exceeds max price',
        body: (p) => ({
          orchestrator: b64(orchestratorInfo(p, { priceInfo: { ...DEFAULT_PRICE, pricePerUnit: 900n } })),
          inPixels: 1,
        }),
        status: 481,
        code: 'PRICE_EXCEEDED',
        message: 'exceeds configured maximum price ceiling',
      },
      {
        name: 'request maxPrice below the orchestrator price',
        body: (p) =>
          request(p, { type: 'live', maxPrice: { price: '499', currency: 'wei', unit: 'seconds' } }),
        status: 481,
        code: 'PRICE_EXCEEDED',
        message: 'request maxPrice',
      },
      {
        name: 'maxPrice in another unit',
        body: (p) => request(p, { type: 'live', maxPrice: { price: '600', currency: 'wei', unit: 'fixed' } }),
        status: 400,
        code: 'INVALID_REQUEST',
        message: 'maxPrice.unit must be seconds',
      },
    ];

    for (const c of cases) {
      it(`${c.name}: ${c.status} ${c.code}, nothing signed`, async () => {
        const p = await params({}, c.validFor);
        const a = await pay(c.body(p));
        expect(a.status, JSON.stringify(a.body)).toBe(c.status);
        expect(errorCode(a)).toBe(c.code);
        if (c.message) expect(errorMessage(a)).toContain(c.message);
        if (c.header) expect(a.headers.get('livepeer-orchestrator-url')).toBe(c.header);
        expect(a.body.payment).toBeUndefined();
        // No nonce taken (a refusal after the session check may have opened the session at 0).
        expect((await nonceOf(p)) ?? 0).toBe(0);
      });
    }
  });

  // go-livepeer TestGenerateLivePayment_StateValidationErrors.
  describe('TestGenerateLivePayment_StateValidationErrors', () => {
    async function first(extra: Record<string, unknown> = {}) {
      const p = await params();
      const a = await pay(request(p, extra));
      payment(a);
      return { p, a, state: a.body.state as { State: string; Sig: string } };
    }

    it('missing manifest id with state', async () => {
      const { p, state } = await first();
      const a = await pay({ ...request(p, { state }), ManifestID: '' });
      expect(a.status).toBe(400);
      expect(errorMessage(a)).toContain('missing manifestID');
      expect(await nonceOf(p)).toBe(1);
    });

    it('invalid state signature: a state with a changed balance is refused and signs nothing', async () => {
      const { p, a: prev, state } = await first();
      const json = stateOf(prev);
      const forged = Buffer.from(JSON.stringify({ ...json, Balance: '1000000000000000000' })).toString(
        'base64',
      );
      const a = await pay(request(p, { state: { State: forged, Sig: state.Sig } }));
      expect(a.status).toBe(400);
      expect(errorCode(a)).toBe('INVALID_STATE_SIGNATURE');
      expect(errorMessage(a)).toContain('invalid sig');
      const garbageSig = await pay(request(p, { state: { State: state.State, Sig: b64('bad') } }));
      expect(errorCode(garbageSig)).toBe('INVALID_STATE_SIGNATURE');
      expect(await nonceOf(p)).toBe(1);
    });

    it('invalid state json', async () => {
      const p = await params();
      const a = await pay(request(p, { state: sealState('not-json') }));
      expect(a.status).toBe(400);
      expect(errorMessage(a)).toContain('invalid state');
      expect(await nonceOf(p)).toBeUndefined();
    });

    it('orchestrator address mismatch: a state for another orchestrator', async () => {
      const { p, state } = await first();
      const other = await params({ recipient: hexToBytes('0x' + '42'.repeat(20), 'r', 20) });
      const a = await pay({
        ...request(p, { state }),
        orchestrator: b64(orchestratorInfo(other, { address: other.params.recipient })),
      });
      expect(a.status).toBe(400);
      expect(errorCode(a)).toBe('STATE_MISMATCH');
      expect(errorMessage(a)).toContain('orchestratorAddress mismatch');
    });

    it('app and job type mismatch against the state', async () => {
      const { p, state } = await first({ app: 'app-a', type: 'live', inPixels: 0 });
      const app = await pay(request(p, { state, app: 'app-b', type: 'live' }));
      expect(errorCode(app)).toBe('STATE_MISMATCH');
      expect(errorMessage(app)).toContain('app mismatch');
      const type = await pay(request(p, { state, app: 'app-a', type: 'lv2v' }));
      expect(errorCode(type)).toBe('STATE_MISMATCH');
      expect(errorMessage(type)).toContain('job type mismatch');
      expect(await nonceOf(p)).toBe(1);
    });

    it('a state of another API client or account is refused', async () => {
      const { p, state } = await first();
      const a = await pay(request(p, { state }), MULTI_TOKEN, { 'Ticketpay-Sender': chain.funded.address });
      expect(errorCode(a)).toBe('STATE_MISMATCH');
      expect(await nonceOf(p)).toBe(1);
    });

    // The Python SDK stops on 483 (InsufficientBalance) instead of trying every orchestrator.
    it('an account without funds on chain: 483, nothing signed', async () => {
      const p = await params();
      const a = await pay(request(p), MULTI_TOKEN, { 'Ticketpay-Sender': chain.unfunded.address });
      expect(a.status, JSON.stringify(a.body)).toBe(483);
      expect(errorCode(a)).toBe('NO_SENDER_RESERVE');
      expect(a.body.payment).toBeUndefined();
    });

    it('orchestrator price increased above the initial price: 481', async () => {
      const { p, state } = await first();
      const raised = { ...p, price: { ...DEFAULT_PRICE, pricePerUnit: 600n } };
      const a = await pay({ ...request(p, { state }), orchestrator: b64(orchestratorInfo(raised)) });
      expect(a.status).toBe(481);
      expect(errorMessage(a)).toContain('initial session price');
      expect(await nonceOf(p)).toBe(1);
    });

    it('zero tickets returns 482 and leaves the nonces alone', async () => {
      const { p, a: prev } = await first();
      const rich = sealState({ ...stateOf(prev), Balance: '1000000000000' });
      const a = await pay(request(p, { state: rich }));
      expect(a.status).toBe(482);
      expect(errorCode(a)).toBe('NO_TICKETS_NEEDED');
      expect(await nonceOf(p)).toBe(1);
    });
  });

  // go-livepeer's GenerateLivePayment checks shouldRefreshSession (auth token, then O's params for
  // one ticket: expired is 480, any other fault 400) before the job type, maxPrice and the price
  // ceilings. When two faults hold, the answer is the one go-livepeer gives: the Python SDK
  // refreshes its OrchestratorInfo on 480 but stops paying on 481.
  describe('order of checks, as go-livepeer', () => {
    const above = (p: Params) =>
      b64(orchestratorInfo(p, { priceInfo: { ...DEFAULT_PRICE, pricePerUnit: 900n } }));
    const stale = (p: Params) => b64(orchestratorInfo(p, { authToken: authToken(-60) }));

    it('expired ticket params and a price above the ceiling: 480, not 481', async () => {
      const p = await params({}, 1n);
      const a = await pay(request(p, { orchestrator: above(p) }));
      expect(a.status, JSON.stringify(a.body)).toBe(480);
      expect(a.headers.get('livepeer-orchestrator-url')).toBe(ORCH_URL);
      expect(await nonceOf(p)).toBeUndefined();
    });

    it('params refused for another reason and a price above the ceiling: the params fault, not 481', async () => {
      const p = await params({ faceValue: 10n ** 30n });
      const a = await pay(request(p, { orchestrator: above(p) }));
      expect(errorCode(a), JSON.stringify(a.body)).toBe('FACE_VALUE_TOO_HIGH');
      expect(await nonceOf(p)).toBeUndefined();
    });

    it('a stale auth token and a maxPrice in the wrong unit: 480, not 400', async () => {
      const p = await params();
      const maxPrice = { price: '600', currency: 'wei', unit: 'fixed' };
      const a = await pay(request(p, { orchestrator: stale(p), type: 'live', maxPrice }));
      expect(a.status, JSON.stringify(a.body)).toBe(480);
    });

    it('a stale auth token and an unknown job type: 480, then 400 with fresh params', async () => {
      const p = await params();
      const a = await pay(request(p, { orchestrator: stale(p), type: 'bogus' }));
      expect(a.status, JSON.stringify(a.body)).toBe(480);
      const fresh = await pay(request(p, { type: 'bogus' }));
      expect(fresh.status).toBe(400);
      expect(errorMessage(fresh)).toContain('invalid job type');
    });

    it('malformed capabilities with the state of another app: the state mismatch first', async () => {
      const p = await params();
      const one = await pay(request(p, { app: 'app-a' }));
      payment(one);
      const capabilities = b64('not-valid-protobuf');
      const a = await pay(request(p, { app: 'app-b', capabilities, state: one.body.state }));
      expect(errorCode(a), JSON.stringify(a.body)).toBe('STATE_MISMATCH');
      expect(errorMessage(a)).toContain('app mismatch');
    });

    it('a job type that does not match the state is still refused before the refresh check', async () => {
      const p = await params();
      const one = await pay(request(p, { type: 'live' }));
      payment(one);
      const a = await pay(request(p, { orchestrator: stale(p), type: 'bogus', state: one.body.state }));
      expect(a.status).toBe(400);
      expect(errorMessage(a)).toContain('job type mismatch');
    });
  });

  // go-livepeer TestGenerateLivePayment_LV2V_Succeeds (with inPixels, so the fee is exact).
  describe('TestGenerateLivePayment_LV2V_Succeeds', () => {
    it('charges the initial price, carries the exact balance and continues the nonces', async () => {
      const p = await params();
      const ev = evOf(p);
      const one = await pay(request(p, { inPixels: 1000 }));
      const pay1 = payment(one);
      expect(pay1.ticketSenderParams.map((t) => t.senderNonce)).toEqual([1]);
      const s1 = stateOf(one);
      const fee1 = Rational.of(500n * 1000n);
      const bal1 = balanceAfter(Rational.ZERO, 1n, ev, fee1);
      expect(parseRatString(s1.Balance as string).equals(bal1)).toBe(true);
      expect(s1.SequenceNumber).toBe(0);
      expect(s1.PMSessionID).toBe(bytesToHex(p.params.recipientRandHash));
      expect(s1.SenderNonce).toBe(1);
      // go-ethereum marshals an Address as lowercase hex.
      expect(s1.OrchestratorAddress).toBe(chain.recipient.address.toLowerCase());

      const two = await pay(request(p, { inPixels: 2_500_000, state: one.body.state }));
      const pay2 = payment(two);
      const n2 = BigInt(pay2.ticketSenderParams.length);
      expect(pay2.ticketSenderParams[0].senderNonce).toBe(2);
      const s2 = stateOf(two);
      expect(s2.SequenceNumber).toBe(1);
      expect(s2.StateID).toBe(s1.StateID);
      const bal2 = balanceAfter(bal1, n2, ev, Rational.of(500n * 2_500_000n));
      expect(parseRatString(s2.Balance as string).equals(bal2)).toBe(true);
      expect(bal2.sign()).toBeGreaterThanOrEqual(0);
      expect(await nonceOf(p)).toBe(1 + Number(n2));
    });

    it('prepays 10 s of live and 60 s of lv2v on the first call', async () => {
      const p = await params();
      const live = await pay(request(p, { type: 'live', inPixels: 0 }));
      expect(
        parseRatString(stateOf(live).Balance as string).equals(evOf(p).sub(Rational.of(10n * 500n))),
      ).toBe(true);
      // 60 s of 720p30 at 1/10 000 wei per pixel: 165 888 wei.
      const q = await params({ price: { ...DEFAULT_PRICE, pricePerUnit: 1n, pixelsPerUnit: 10_000n } });
      const lv2v = await pay(request(q, { type: 'lv2v', inPixels: 0 }));
      expect(parseRatString(stateOf(lv2v).Balance as string).equals(evOf(q).sub(Rational.of(165_888n)))).toBe(
        true,
      );
      expect(stateOf(lv2v).Type).toBe('lv2v');
    });

    // go-livepeer TestGenerateLivePayment: a per-capability maximum replaces the global one (800).
    it('holds a request naming priced models to their maximum price, above or below the global one', async () => {
      const at = (pricePerUnit: bigint) => params({ price: { ...DEFAULT_PRICE, pricePerUnit } });
      const naming = (capability: number, model: string) =>
        b64(capabilityModelsCodec.encode([{ capability, models: [model] }]));
      const pricey = await pay(request(await at(900n), { capabilities: naming(35, 'pricey-model') }));
      expect(pricey.status, JSON.stringify(pricey.body)).toBe(200);
      const cheap = await pay(request(await at(300n), { capabilities: naming(27, 'cheap-model') }));
      expect(cheap.status).toBe(481);
      expect(errorMessage(cheap)).toContain('exceeds configured maximum price ceiling');
      const unpriced = await pay(request(await at(900n), { capabilities: naming(35, 'other-model') }));
      expect(unpriced.status).toBe(481);
    });

    it('bills a fixed job one unit per call at the initial price', async () => {
      // A fixed price is checked against the ceilings like any other (800 wei here), and one call is
      // one unit whatever inPixels says.
      const p = await params({
        price: { ...DEFAULT_PRICE, pricePerUnit: 3_000_000_000n, pixelsPerUnit: 1n },
      });
      const one = await pay(request(p, { type: 'fixed', inPixels: 0 }), LIVE_TOKEN);
      expect(one.status, JSON.stringify(one.body)).toBe(481); // above SENDER_REMOTE_SIGNER_MAX_PRICE (800)
      const q = await params({ price: { ...DEFAULT_PRICE, pricePerUnit: 700n, pixelsPerUnit: 1n } });
      const first = await pay(request(q, { type: 'fixed', inPixels: 123 }));
      const bal = parseRatString(stateOf(first).Balance as string);
      expect(bal.equals(balanceAfter(Rational.ZERO, 1n, evOf(q), Rational.of(700n)))).toBe(true);
      expect(stateOf(first).Type).toBe('fixed');
    });

    it('never bills a continuing call as a first one when replica clocks disagree a little', async () => {
      const p = await params();
      const one = await pay(request(p, { type: 'live', inPixels: 0 }));
      const s1 = stateOf(one);
      // Another replica wrote LastUpdate 5 s ahead of this one's clock: 1 s is billed, not 10 s again.
      const ahead = sealState({ ...s1, LastUpdate: new Date(Date.now() + 5_000).toISOString() });
      const two = await pay(request(p, { type: 'live', inPixels: 0, state: ahead }));
      const n = BigInt(payment(two).ticketSenderParams.length);
      const want = balanceAfter(parseRatString(s1.Balance as string), n, evOf(p), Rational.of(500n));
      expect(parseRatString(stateOf(two).Balance as string).equals(want)).toBe(true);
    });

    it('signs segment credentials with the tickets’ key, for the manifest and O’s auth token', async () => {
      const p = await params();
      const a = await pay(request(p, { ManifestID: 'stream-42' }));
      payment(a);
      const seg = segDataCodec.decode(Buffer.from(a.body.segCreds as string, 'base64'));
      expect(Buffer.from(seg.manifestId).toString()).toBe('stream-42');
      expect(bytesToHex(seg.hash)).toBe(bytesToHex(EMPTY_SEGMENT_HASH));
      expect(seg.authToken?.sessionId).toBe('orch-session');
      const digest = personalDigest(keccak256(segmentFlatten('stream-42', 0n, EMPTY_SEGMENT_HASH)));
      expect(bytesToHex(nobleBackend.recoverAddress(digest, seg.sig)!)).toBe(funded);
    });

    it('keeps nonce continuity when Redis lost the session: the state raises the floor', async () => {
      const p = await params();
      const one = await pay(request(p));
      payment(one);
      // As if another replica had already issued up to nonce 40 under this recipientRandHash.
      const ahead = sealState({ ...stateOf(one), SenderNonce: 40 });
      const two = await pay(request(p, { state: ahead, inPixels: 2_500_000 }));
      expect(payment(two).ticketSenderParams[0].senderNonce).toBe(41);
    });

    it('refreshes (480) when the batch would pass the recipient nonce cap', async () => {
      const p = await params();
      const one = await pay(request(p));
      payment(one);
      const full = sealState({ ...stateOf(one), SenderNonce: 600 });
      const a = await pay(request(p, { state: full, inPixels: 2_500_000 }));
      expect(a.status).toBe(480);
      expect(a.headers.get('livepeer-orchestrator-url')).toBe(ORCH_URL);
      expect(await nonceOf(p)).toBe(600);
    });

    it('accepts Go-style key casing (ManifestId, State/Sig in any case)', async () => {
      const p = await params();
      const one = await pay(request(p));
      const state = one.body.state as { State: string; Sig: string };
      const a = await pay({
        Orchestrator: b64(orchestratorInfo(p)),
        manifestid: 'manifest-1',
        INPIXELS: 2_500_000,
        STATE: { state: state.State, sig: state.Sig },
      });
      expect(payment(a).ticketSenderParams[0].senderNonce).toBe(2);
    });
  });

  /*
   * The livepeer-python-gateway SDK's LivePaymentSession, byte for byte: Python's json.dumps
   * (", " and ": " separators, floats in repr form such as 1e-07), ManifestID on every call,
   * maxPrice as a float on every call, and the state dict echoed as it came back. Status handling
   * as the SDK's: 480 refresh, 482 skip the cycle, anything else an HTTP error with error.message.
   */
  describe('driven as the Python SDK drives it', () => {
    const sdkHeaders = {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'User-Agent': 'Python-urllib/3.12',
      Authorization: `Bearer ${LIVE_TOKEN}`,
    };
    const sdkPay = (orchestrator: string, price: string, state?: { State: string; Sig: string }) =>
      postJson(
        `${signer.httpUrl}/generate-live-payment`,
        `{"orchestrator": "${orchestrator}", "type": "lv2v", "ManifestID": "sdk-manifest", ` +
          `"maxPrice": {"price": ${price}, "currency": "wei", "unit": "720p-pixel-seconds"}` +
          (state ? `, "state": {"State": "${state.State}", "Sig": "${state.Sig}"}` : '') +
          '}',
        sdkHeaders,
      );

    it('get_signer_info: {} in, hex address and signature out', async () => {
      const a = await postJson(`${signer.httpUrl}/sign-orchestrator-info`, '{}', sdkHeaders);
      expect(a.status).toBe(200);
      // The SDK's _hex_to_bytes: optional 0x, hex digits only, 20 address bytes.
      expect(a.body.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
      expect(a.body.signature).toMatch(/^0x[0-9a-f]{130}$/);
    });

    // go-livepeer's own gateway (GetOrchInfoSig) posts no body at all, with Content-Type JSON.
    // go-livepeer registers `POST /generate-live-payment` etc. on Go's mux: another method is 405.
    it("answers another method on a signer path 405 with Allow, as Go's mux does", async () => {
      for (const [method, path, allow] of [
        ['GET', 'generate-live-payment', 'POST'],
        ['PUT', 'sign-orchestrator-info', 'POST'],
        ['DELETE', 'sign-byoc-job', 'POST'],
        ['POST', 'discover-orchestrators', 'GET, HEAD'],
      ]) {
        const res = await fetch(`${signer.httpUrl}/${path}`, { method });
        expect(res.status, `${method} /${path}`).toBe(405);
        expect(res.headers.get('allow')).toBe(allow);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('METHOD_NOT_ALLOWED');
      }
      expect((await fetch(`${signer.httpUrl}/discover-orchestrators`, { method: 'HEAD' })).status).toBe(503);
    });

    it('GetOrchInfoSig: an empty POST body is answered like {}', async () => {
      const res = await fetch(`${signer.httpUrl}/sign-orchestrator-info`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${LIVE_TOKEN}` },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { address: string }).address).toBe(chain.funded.address);
    });

    // go-livepeer json-decodes the body whatever its Content-Type: a bare fetch(url, {body: string})
    // sends text/plain, a Go http.NewRequest none at all.
    it('reads a JSON body sent as text/plain or without Content-Type, as go-livepeer does', async () => {
      const p = await params();
      const body = JSON.stringify(request(p));
      const auth = { Authorization: `Bearer ${LIVE_TOKEN}` };
      const plain = await fetch(`${signer.httpUrl}/generate-live-payment`, {
        method: 'POST',
        headers: auth,
        body,
      });
      expect(plain.headers.get('content-type') ?? '').toContain('application/json');
      expect(plain.status, await plain.clone().text()).toBe(200);
      const bare = await fetch(`${signer.httpUrl}/generate-live-payment`, {
        method: 'POST',
        headers: auth,
        body: new TextEncoder().encode(body),
      });
      expect(bare.status, await bare.clone().text()).toBe(200);
      const junk = await fetch(`${signer.httpUrl}/generate-live-payment`, {
        method: 'POST',
        headers: auth,
        body: 'not json',
      });
      expect(junk.status).toBe(400);
      expect(((await junk.json()) as { error: { code: string } }).error.code).toBe('INVALID_REQUEST');
      const huge = await fetch(`${signer.httpUrl}/generate-live-payment`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ orchestrator: 'A'.repeat(200_000) }),
      });
      expect(huge.status).toBe(413);
    });

    // Go never looks at the Content-Type: a form-encoded JSON text is still the JSON request, `+`
    // and `&` included (a form parser would have turned them into spaces and fields).
    it('reads a form-encoded body as JSON, as go-livepeer does; other routes keep the usual parsers', async () => {
      const p = await params();
      const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
      const auth = { Authorization: `Bearer ${LIVE_TOKEN}` };
      const paid = await postJson(`${signer.httpUrl}/generate-live-payment`, JSON.stringify(request(p)), {
        ...auth,
        ...form,
      });
      expect(paid.status, JSON.stringify(paid.body)).toBe(200);
      expect(payment(paid).ticketSenderParams.length).toBeGreaterThan(0);

      const job = { request: '{"q":"a+b&c=d"}', parameters: '{"x":"1+1=2"}' };
      const signed = await postJson(`${signer.httpUrl}/sign-byoc-job`, JSON.stringify(job), {
        ...auth,
        ...form,
      });
      const asJson = await postJson(`${signer.httpUrl}/sign-byoc-job`, job, auth);
      expect(signed.status, JSON.stringify(signed.body)).toBe(200);
      expect(signed.body).toEqual(asJson.body);

      const huge = await postJson(
        `${signer.httpUrl}/generate-live-payment`,
        JSON.stringify({ orchestrator: 'A'.repeat(200_000) }),
        { ...auth, ...form },
      );
      expect(huge.status).toBe(413);
      expect(errorCode(huge)).toBe('INVALID_REQUEST');
      // Any other path is Nest's as before: not found, in Nest's own body.
      const elsewhere = await fetch(`${signer.httpUrl}/not-a-signer-path`, {
        method: 'POST',
        headers: form,
        body: 'a=1&b=2',
      });
      expect(elsewhere.status).toBe(404);
      expect(((await elsewhere.json()) as { statusCode?: number }).statusCode).toBe(404);
    });

    // Go keeps a JSON number's text (json.Number) and reads it with big.Rat: no double rounding.
    it('reads a maxPrice number of more than 15 significant digits exactly', async () => {
      const live = (p: Params, price: string) =>
        pay(
          `{"orchestrator":"${b64(orchestratorInfo(p))}","ManifestID":"exact","type":"live",` +
            `"maxPrice":{"price":${price},"currency":"wei","unit":"seconds"}}`,
        );
      // As a double 0.99999999999999999 is 1: a price of exactly 1 would pass the ceiling.
      const one = await params({ price: { ...DEFAULT_PRICE, pricePerUnit: 1n, pixelsPerUnit: 1n } });
      const over = await live(one, '0.99999999999999999');
      expect(over.status, JSON.stringify(over.body)).toBe(481);
      expect(errorMessage(over)).toContain('request maxPrice');
      expect(await nonceOf(one)).toBeUndefined();
      // As a double 1.0000000000000003 is 1.0000000000000002: 1 + 2^-52 between them would be refused.
      const justOver = await params({
        price: { ...DEFAULT_PRICE, pricePerUnit: 2n ** 52n + 1n, pixelsPerUnit: 2n ** 52n },
      });
      const under = await live(justOver, '1.0000000000000003');
      expect(under.status, JSON.stringify(under.body)).toBe(200);
    });

    it('maxPrice floats in Python repr (1e-07, 1e+16) are exact ceilings; the echoed state continues', async () => {
      // 1/10 000 wei per pixel: above a 1e-07 ceiling (481), under 1e+16 and "2.5E-4".
      const p = await params({ price: { ...DEFAULT_PRICE, pricePerUnit: 1n, pixelsPerUnit: 10_000n } });
      const orchestrator = b64(orchestratorInfo(p));
      const refused = await sdkPay(orchestrator, '1e-07');
      expect(refused.status, JSON.stringify(refused.body)).toBe(481);
      expect(errorMessage(refused)).toContain('exceeds request maxPrice ceiling 0.000');
      expect(await nonceOf(p)).toBeUndefined();

      const first = await sdkPay(orchestrator, '1e+16');
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      expect(typeof first.body.payment).toBe('string');
      expect(typeof first.body.segCreds).toBe('string');
      const state = first.body.state as { State: string; Sig: string };
      expect(Object.keys(state)).toEqual(['State', 'Sig']);
      expect(stateOf(first).OrchestratorAddress).toBe(bytesToHex(p.params.recipient));

      // The next cycle echoes the state dict; a Go-syntax string price is a ceiling too.
      const next = await sdkPay(orchestrator, '"2.5E-4"', state);
      expect(payment(next).ticketSenderParams[0].senderNonce).toBe(Number(stateOf(first).SenderNonce) + 1);
      expect(stateOf(next).SequenceNumber).toBe(1);
      expect(stateOf(next).StateID).toBe(stateOf(first).StateID);
    });
  });

  // Each body as go-livepeer's json.NewDecoder(r.Body).Decode reads it (checked against Go's
  // encoding/json): keys filled in document order, integer fields refusing `1.0`, the first JSON
  // value read and the rest ignored, nesting up to 10000 levels.
  describe("bodies decoded as Go's encoding/json decodes them", () => {
    const job = { id: 'job-1', capability: 'cap', request: '{}', parameters: '{}', timeout_seconds: 60 };
    const signJob = (body: string) =>
      postJson(`${signer.httpUrl}/sign-byoc-job`, body, { Authorization: `Bearer ${LIVE_TOKEN}` });

    it('a key repeated in any case: the last occurrence fills the field', async () => {
      const p = await params();
      // 202 000 000 pixels would need 101 tickets (400); Go takes the last, 1000.
      const body = JSON.stringify(request(p)).replace(
        '"inPixels":1000',
        '"inPixels":1000,"INPIXELS":202000000,"inPixels":1000',
      );
      const a = await pay(body);
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      expect(payment(a).ticketSenderParams.length).toBe(1);
    });

    it('an integer field written with a fraction or exponent is a 400, nothing signed', async () => {
      const p = await params();
      for (const n of ['1000.0', '1e3']) {
        const a = await pay(JSON.stringify(request(p)).replace('"inPixels":1000', `"inPixels":${n}`));
        expect(a.status, JSON.stringify(a.body)).toBe(400);
        expect(errorCode(a)).toBe('INVALID_REQUEST');
        expect(errorMessage(a)).toContain('inPixels');
      }
      expect(await nonceOf(p)).toBeUndefined();
      const timeout = await signJob(
        JSON.stringify(job).replace('"timeout_seconds":60', '"timeout_seconds":60.0'),
      );
      expect(timeout.status, JSON.stringify(timeout.body)).toBe(400);
      expect(errorMessage(timeout)).toContain('timeout_seconds');
    });

    it('data after the first JSON value is ignored on both endpoints, as json.Decoder ignores it', async () => {
      const p = await params();
      const a = await pay(`${JSON.stringify(request(p))} trailing {"inPixels":202000000`);
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      expect(payment(a).ticketSenderParams.length).toBe(1);
      const signed = await signJob(`${JSON.stringify(job)}}garbage`);
      expect(signed.status, JSON.stringify(signed.body)).toBe(200);
      expect(signed.body).toEqual((await signJob(JSON.stringify(job))).body);
    });

    it('10000 levels of nesting are read (the body under 100 kB); 10001 are a 400', async () => {
      const p = await params();
      const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);
      const deep = (n: number) => JSON.stringify(request(p)).replace(/}$/, `,"x":${nested(n)}}`);
      expect(deep(9_999).length).toBeLessThan(100 * 1024);
      const a = await pay(deep(9_999));
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      const b = await pay(deep(10_000));
      expect(b.status).toBe(400);
      expect(errorCode(b)).toBe('INVALID_REQUEST');
    });
  });

  it('counts refusals by endpoint and code, and the tickets it signed, in /metrics', async () => {
    const text = await (await fetch(`${signer.httpUrl}/metrics`)).text();
    expect(text).toMatch(
      /ticketpay_sender_errors_total\{method="generate-live-payment",domain="remote-signer",code="TOO_MANY_TICKETS"[^}]*\} [1-9]/,
    );
    expect(text).toMatch(
      /ticketpay_sender_tickets_sent_total\{sender="0x[0-9a-f]{40}",recipient="0x[0-9a-f]{40}"[^}]*\} [1-9]/,
    );
  });

  it('two replicas sharing Redis: alternating calls and a replayed state never reuse a nonce', async () => {
    const replica = await bootSender({
      ...base,
      SENDER_API_TOKENS_FILE: join(files.dir, 'signer-tokens.yaml'),
      SENDER_REMOTE_SIGNER: 'true',
      SENDER_REMOTE_SIGNER_STATE_SECRET: STATE_SECRET,
    });
    try {
      const p = await params();
      const urls = [signer.httpUrl, replica.httpUrl];
      const seen: number[] = [];
      let state: unknown;
      let replayed: unknown;
      for (let i = 0; i < 6; i++) {
        const body = request(p, { inPixels: i === 0 ? 1000 : 2_500_000, ...(state ? { state } : {}) });
        const a = await postJson(`${urls[i % 2]}/generate-live-payment`, body, {
          Authorization: `Bearer ${LIVE_TOKEN}`,
        });
        seen.push(...payment(a).ticketSenderParams.map((t) => t.senderNonce));
        if (i === 2) replayed = state;
        state = a.body.state;
      }
      // The state of call 2 sent again, to both replicas: fresh nonces each time.
      for (const url of urls) {
        const a = await postJson(
          `${url}/generate-live-payment`,
          request(p, { inPixels: 2_500_000, state: replayed }),
          {
            Authorization: `Bearer ${LIVE_TOKEN}`,
          },
        );
        seen.push(...payment(a).ticketSenderParams.map((t) => t.senderNonce));
      }
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual([...seen].sort((x, y) => x - y));
      expect(await nonceOf(p)).toBe(Math.max(...seen));
    } finally {
      await replica.close();
    }
  });

  it('answers random and mutated requests with a coded refusal or a payment, never a 500', async () => {
    const p = await params();
    const valid = request(p) as Record<string, unknown>;
    const field = fc.constantFrom(
      'orchestrator',
      'state',
      'ManifestID',
      'app',
      'inPixels',
      'type',
      'maxPrice',
      'capabilities',
    );
    const bodies = fc.oneof(
      fc.anything(),
      fc.tuple(field, fc.anything()).map(([k, v]) => ({ ...valid, [k]: v })),
      fc.uint8Array({ maxLength: 200 }).map((b) => ({ ...valid, orchestrator: b64(b) })),
      fc.uint8Array({ maxLength: 200 }).map((b) => ({ ...valid, state: { State: b64(b), Sig: b64(b) } })),
    );
    const samples = fc.sample(bodies, { numRuns: 150, seed: 14 });
    for (const body of samples) {
      const a = await pay(JSON.stringify(body) ?? 'null');
      expect(a.status, JSON.stringify(body)).not.toBe(500);
      if (a.status !== 200) expect(typeof errorCode(a), JSON.stringify(a.body)).toBe('string');
    }
  });

  it('leaves the gRPC API and its coded errors as they are', async () => {
    const f = await failure(
      signer.client.call('CreateTicketBatch', { sessionId: 'nope', size: 1 }, LIVE_TOKEN),
    );
    expect(f).toMatchObject({ status: 3, code: 'INVALID_REQUEST' });
  });

  describe('per-token spend caps', () => {
    it('refuses the batch that would pass the EV cap, before a nonce is taken', async () => {
      const p = await params();
      const one = await pay(request(p), CAPPED_TOKEN);
      payment(one);
      const two = await pay(request(p, { state: one.body.state, inPixels: 2_500_000 }), CAPPED_TOKEN);
      payment(two);
      const three = await pay(request(p, { state: two.body.state, inPixels: 2_500_000 }), CAPPED_TOKEN);
      expect(three.status).toBe(483);
      expect(errorCode(three)).toBe('SPEND_CAP_REACHED');
      expect(await nonceOf(p)).toBe(2);
    });
  });
});

describe('remote signer auth webhook (go-livepeer TestGenerateLivePayment_WebhookCallback)', () => {
  let chain: SenderChain;
  let files: SenderFiles;
  let signer: RunningSender;
  let orch: Orchestrator;
  let hook: FakeWebhook;
  let funded: string;

  beforeAll(async () => {
    chain = await startSenderChain();
    files = await writeSenderFiles(chain);
    funded = chain.funded.address.toLowerCase();
    hook = await startWebhook();
    const env = senderEnv(chain, files, testRedis('remote-signer-webhook'));
    delete env.SENDER_API_TOKENS_FILE;
    delete env.SENDER_KEYSTORE_DIR;
    // One account, no API tokens, no state secret: the webhook authorizes and the account seals.
    signer = await bootSender({
      ...env,
      SENDER_KEYSTORE_FILES: join(files.keystoreDir, 'funded.json'),
      SENDER_REMOTE_SIGNER: 'true',
      SENDER_REMOTE_SIGNER_WEBHOOK_URL: hook.url,
      SENDER_REMOTE_SIGNER_WEBHOOK_HEADERS: 'Authorization:Bearer abc,X-API-Key:secret',
      SENDER_REMOTE_SIGNER_WEBHOOK_TIMEOUT_MS: '1000',
    });
    orch = newOrchestrator(chain.recipient);
  });
  afterAll(async () => {
    await signer?.close();
    await hook?.close();
    await chain?.stop();
    files?.cleanup();
  });

  const reply = (status: number, body: unknown) => {
    hook.reply = () => ({ status, body: typeof body === 'string' ? body : JSON.stringify(body) });
  };
  async function call(extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    const p = await freshParams(chain, orch);
    const a = await postJson(
      `${signer.httpUrl}/generate-live-payment`,
      { orchestrator: b64(orchestratorInfo(p)), ManifestID: 'manifest', inPixels: 1000, ...extra },
      headers,
    );
    return { p, a };
  }
  /** The session's next call, carrying the state `prev` answered, as a gateway makes it. */
  const continued = (
    p: Awaited<ReturnType<typeof freshParams>>,
    prev: HttpAnswer,
    headers: Record<string, string> = {},
  ) =>
    postJson(
      `${signer.httpUrl}/generate-live-payment`,
      {
        orchestrator: b64(orchestratorInfo(p)),
        ManifestID: 'manifest',
        inPixels: 2_500_000,
        state: prev.body.state,
      },
      headers,
    );
  const nonceOf = (p: { params: TicketParams }) =>
    issuedNonce(signer.app, funded, p.params.recipientRandHash);

  it('callback receives request headers and outbound auth headers, before anything is signed', async () => {
    hook.calls.length = 0;
    reply(200, { status: 200 });
    const { a } = await call({}, { 'X-Request-ID': 'req-123' });
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(hook.calls).toHaveLength(1);
    const c = hook.calls[0];
    expect(c.headers.authorization).toBe('Bearer abc');
    expect(c.headers['x-api-key']).toBe('secret');
    expect(c.headers['content-type']).toBe('application/json');
    expect(c.body.headers['X-Request-Id']).toEqual(['req-123']);
  });

  // go-livepeer asks its webhook once the tickets are signed, with the state the call leaves;
  // here nothing is signed before it answers, but it is shown that same state.
  it('shows the webhook the state the call leaves: balance, session, nonce and time of this call', async () => {
    hook.calls.length = 0;
    reply(200, { status: 200 });
    const { p, a } = await call();
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    const shown = hook.calls[0].body.state!;
    const left = stateOf(a);
    expect(shown.PMSessionID).toBe(bytesToHex(p.params.recipientRandHash));
    for (const key of ['PMSessionID', 'SenderNonce', 'Balance', 'LastUpdate', 'StateID', 'SequenceNumber'])
      expect(shown[key], key).toEqual(left[key]);
    expect(shown.SenderNonce).toBeGreaterThan(0);
    const next = await continued(p, a);
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    const again = hook.calls[1].body.state!;
    for (const key of ['SenderNonce', 'Balance', 'LastUpdate', 'SequenceNumber'])
      expect(again[key], key).toEqual(stateOf(next)[key]);
    expect(again.SenderNonce).toBeGreaterThan(shown.SenderNonce as number);
  });

  it('callback 200 with expiry sets state auth expiry; auth id from the callback wins over the header', async () => {
    const expiry = Math.floor(Date.now() / 1000) + 300;
    reply(200, { status: 200, expiry, auth_id: 'webhook-auth-id' });
    const { a } = await call({}, { 'Signer-Auth-Id': 'header-auth-id' });
    expect(stateOf(a).AuthExpiry).toBe(expiry);
    expect(stateOf(a).AuthID).toBe('webhook-auth-id');
  });

  // go-livepeer json.Unmarshals the reply into authResponse: keys match in any case, maxPrice's too.
  it('reads the callback reply as Go does: Status, Expiry, Auth_ID and MaxPrice in any case', async () => {
    const expiry = Math.floor(Date.now() / 1000) + 300;
    reply(200, { Status: 200, Expiry: expiry, AUTH_ID: 'go-cased-id' });
    const { a } = await call();
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(stateOf(a).AuthExpiry).toBe(expiry);
    expect(stateOf(a).AuthID).toBe('go-cased-id');
    reply(200, { STATUS: 200, MaxPrice: { Price: '1e-9', Currency: 'WEI', Unit: 'Seconds' } });
    const { p, a: capped } = await call({ type: 'live' });
    expect(capped.status, JSON.stringify(capped.body)).toBe(481);
    expect(errorMessage(capped)).toContain('auth webhook maxPrice');
    expect(await nonceOf(p)).toBeUndefined();
  });

  it('the webhook sees the state as go-livepeer marshals it (lowercase OrchestratorAddress)', async () => {
    hook.calls.length = 0;
    reply(200, { status: 200 });
    const { p, a } = await call();
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(hook.calls[0].body.state?.OrchestratorAddress).toBe(bytesToHex(p.params.recipient));
    expect(hook.calls[0].body.state?.LastUpdate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });

  it('request auth id header is fallback when callback omits auth id', async () => {
    reply(200, { status: 200 });
    const { a } = await call({}, { 'Signer-Auth-Id': 'header-auth-id' });
    expect(stateOf(a).AuthID).toBe('header-auth-id');
  });

  it('sequential requests skip callback while auth expiry still valid; a new auth id is then refused', async () => {
    hook.calls.length = 0;
    reply(200, { status: 200, expiry: Math.floor(Date.now() / 1000) + 300, auth_id: 'cached-auth-id' });
    const { p, a: first } = await call();
    const second = await continued(p, first);
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(stateOf(second).AuthID).toBe('cached-auth-id');
    expect(hook.calls).toHaveLength(1);
    const nonce = await nonceOf(p);
    const third = await continued(p, second, { 'Signer-Auth-Id': 'new-header-auth-id' });
    expect(third.status).toBe(403);
    expect(errorCode(third)).toBe('AUTH_ID_CHANGED');
    expect(hook.calls).toHaveLength(1);
    expect(await nonceOf(p)).toBe(nonce);
  });

  // A JWT or an API key as the identity: kept by the state, so the session's next call reads it.
  it('keeps a long Signer-Auth-Id through the session, takes the first of repeated ones, refuses one past its bound', async () => {
    reply(200, { status: 200 });
    const jwt = `eyJ.${'x'.repeat(2_000)}.sig`;
    const { p, a: first } = await call({}, { 'Signer-Auth-Id': jwt });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(stateOf(first).AuthID).toBe(jwt);
    const next = await continued(p, first, { 'Signer-Auth-Id': jwt });
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    expect(stateOf(next).AuthID).toBe(jwt);

    // Two header lines (fetch would join them into one before sending).
    const q = await freshParams(chain, orch);
    const twice = await new Promise<HttpAnswer>((resolve, reject) => {
      const req = httpRequest(`${signer.httpUrl}/generate-live-payment`, { method: 'POST' }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: new Headers(),
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
          }),
        );
      });
      req.on('error', reject);
      req.setHeader('Content-Type', 'application/json');
      req.setHeader('Signer-Auth-Id', ['first-id', 'second-id']);
      req.end(
        JSON.stringify({ orchestrator: b64(orchestratorInfo(q)), ManifestID: 'manifest', inPixels: 1000 }),
      );
    });
    expect(twice.status, JSON.stringify(twice.body)).toBe(200);
    expect(stateOf(twice).AuthID).toBe('first-id');

    const { p: r, a: tooLong } = await call({}, { 'Signer-Auth-Id': 'x'.repeat(8_193) });
    expect(tooLong.status).toBe(400);
    expect(errorMessage(tooLong)).toContain('Signer-Auth-Id header must be at most 8192 characters');
    expect(await nonceOf(r)).toBeUndefined();
  });

  it('follows a redirect of the webhook, posting the same body again, and takes a past or negative expiry as none', async () => {
    hook.calls.length = 0;
    let n = 0;
    hook.reply = () =>
      n++ === 0
        ? { status: 308, body: '', headers: { Location: `${hook.url}/moved` } }
        : { status: 200, body: JSON.stringify({ status: 200, expiry: -5 }) };
    const { a } = await call({}, { 'X-Request-ID': 'moved-1' });
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(hook.calls).toHaveLength(2);
    expect(hook.calls[1].body).toEqual(hook.calls[0].body);
    expect(hook.calls[1].body.headers['X-Request-Id']).toEqual(['moved-1']);
    expect(hook.calls[1].body.headers.Host).toBeUndefined();
    expect(stateOf(a).AuthExpiry).toBe(0);
  });

  it('expired auth expiry triggers callback on next request', async () => {
    hook.calls.length = 0;
    reply(200, { status: 200, expiry: Math.floor(Date.now() / 1000) - 60 });
    const { p, a: first } = await call();
    const second = await continued(p, first);
    expect(second.status).toBe(200);
    expect(hook.calls).toHaveLength(2);
  });

  const refusals: { name: string; status: number; body: unknown; want: number; code: string; msg: string }[] =
    [
      {
        name: 'callback 200 with rejection status returns reason',
        status: 200,
        body: { status: 403, reason: 'denied' },
        want: 403,
        code: 'WEBHOOK_DENIED',
        msg: 'denied',
      },
      {
        name: 'callback 200 with rejection status and no reason uses fallback',
        status: 200,
        body: { status: 429 },
        want: 429,
        code: 'WEBHOOK_DENIED',
        msg: 'signer auth rejected request with status 429',
      },
      {
        name: 'callback 200 missing status',
        status: 200,
        body: { expiry: 123 },
        want: 502,
        code: 'WEBHOOK_FAILED',
        msg: 'status',
      },
      {
        name: 'callback status written 200.0 (Go: not an int, decoding fails)',
        status: 200,
        body: '{"status":200.0}',
        want: 502,
        code: 'WEBHOOK_FAILED',
        msg: 'status',
      },
      {
        name: 'callback status written 2e2',
        status: 200,
        body: '{"status":2e2}',
        want: 502,
        code: 'WEBHOOK_FAILED',
        msg: 'status',
      },
      {
        name: 'callback expiry with a fraction',
        status: 200,
        body: '{"status":200,"expiry":1.5}',
        want: 502,
        code: 'WEBHOOK_FAILED',
        msg: 'expiry',
      },
      {
        name: 'callback status repeated in any case: the last one counts',
        status: 200,
        body: '{"status":200,"STATUS":200,"status":403,"reason":"denied last"}',
        want: 403,
        code: 'WEBHOOK_DENIED',
        msg: 'denied last',
      },
      {
        name: 'callback reply with data after the JSON (json.Unmarshal refuses it)',
        status: 200,
        body: '{"status":200} x',
        want: 502,
        code: 'WEBHOOK_FAILED',
        msg: 'not JSON',
      },
      {
        name: 'callback HTTP non-200',
        status: 401,
        body: 'denied',
        want: 502,
        code: 'WEBHOOK_FAILED',
        msg: 'HTTP 401',
      },
      {
        name: 'callback reply not JSON',
        status: 200,
        body: '<html>',
        want: 502,
        code: 'WEBHOOK_FAILED',
        msg: 'not JSON',
      },
      {
        name: 'callback maxPrice below the orchestrator price',
        status: 200,
        body: { status: 200, maxPrice: { price: '499', currency: 'wei', unit: 'seconds' } },
        want: 481,
        code: 'PRICE_EXCEEDED',
        msg: 'auth webhook maxPrice',
      },
      {
        name: 'callback maxPrice malformed',
        status: 200,
        body: { status: 200, maxPrice: { price: 'lots', currency: 'wei', unit: 'seconds' } },
        want: 502,
        code: 'WEBHOOK_FAILED',
        msg: 'maxPrice',
      },
    ];
  for (const r of refusals) {
    it(`${r.name}: ${r.want}, nothing signed`, async () => {
      reply(r.status, r.body);
      const { p, a } = await call({ type: 'live', inPixels: 0 });
      expect(a.status, JSON.stringify(a.body)).toBe(r.want);
      expect(errorCode(a)).toBe(r.code);
      expect(errorMessage(a)).toContain(r.msg);
      expect(await nonceOf(p)).toBeUndefined();
    });
  }

  it('callback maxPrice at or above the orchestrator price lets the payment through', async () => {
    reply(200, { status: 200, maxPrice: { price: 500, currency: 'wei', unit: 'seconds' } });
    const { a } = await call({ type: 'live', inPixels: 0 });
    expect(a.status).toBe(200);
  });

  // go-livepeer asks the webhook after shouldRefreshSession, the price ceilings and the ticket count.
  it('expired ticket params: 480 without asking the webhook', async () => {
    hook.calls.length = 0;
    reply(200, { status: 403, reason: 'denied' });
    const p = await freshParams(chain, orch, {}, 1n);
    const a = await postJson(`${signer.httpUrl}/generate-live-payment`, {
      orchestrator: b64(orchestratorInfo(p)),
      ManifestID: 'manifest',
      inPixels: 1000,
    });
    expect(a.status, JSON.stringify(a.body)).toBe(480);
    expect(hook.calls).toHaveLength(0);
  });

  it('a request maxPrice below the orchestrator price: 481 without asking the webhook', async () => {
    hook.calls.length = 0;
    reply(200, { status: 403, reason: 'denied' });
    const maxPrice = { price: '499', currency: 'wei', unit: 'seconds' };
    const { a } = await call({ type: 'live', maxPrice });
    expect(a.status, JSON.stringify(a.body)).toBe(481);
    expect(errorMessage(a)).toContain('request maxPrice');
    expect(hook.calls).toHaveLength(0);
  });

  it('a balance that covers the call: 482 without asking the webhook', async () => {
    reply(200, { status: 200 });
    const { p, a: first } = await call();
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    // An honest balance stays under one ticket's EV: seal a richer one with the account's key.
    const bytes = Buffer.from(JSON.stringify({ ...stateOf(first), Balance: '1000000000000' }));
    const sig = await chain.funded.signMessage(keccak256(bytes));
    hook.calls.length = 0;
    reply(200, { status: 403, reason: 'denied' });
    const a = await postJson(`${signer.httpUrl}/generate-live-payment`, {
      orchestrator: b64(orchestratorInfo(p)),
      ManifestID: 'manifest',
      inPixels: 1000,
      state: { State: b64(bytes), Sig: b64(hexToBytes(sig, 'sig', 65)) },
    });
    expect(a.status, JSON.stringify(a.body)).toBe(482);
    expect(hook.calls).toHaveLength(0);
  });

  it("the webhook's maxPrice is checked before its auth id: 481, not 403", async () => {
    reply(200, { status: 200 });
    const { p, a: first } = await call({ type: 'live', inPixels: 0 }, { 'Signer-Auth-Id': 'first-id' });
    expect(stateOf(first).AuthID).toBe('first-id');
    const maxPrice = { price: '499', currency: 'wei', unit: 'seconds' };
    reply(200, { status: 200, auth_id: 'other-id', maxPrice });
    const a = await postJson(`${signer.httpUrl}/generate-live-payment`, {
      orchestrator: b64(orchestratorInfo(p)),
      ManifestID: 'manifest',
      type: 'live',
      state: first.body.state,
    });
    expect(a.status, JSON.stringify(a.body)).toBe(481);
    expect(errorMessage(a)).toContain('auth webhook maxPrice');
  });

  // The Sender's own policy (contacts' maximum price, allowlist) needs no webhook: it refuses first,
  // so a payment it would refuse anyway never reaches the webhook (an outside side effect).
  it("the contacts' price ceiling and the allowlist refuse before the webhook is asked", async () => {
    hook.calls.length = 0;
    reply(200, { status: 200 });
    const dear = await freshParams(chain, orch, {
      price: { ...DEFAULT_PRICE, pricePerUnit: CONTACT_MAX_PRICE_PER_UNIT + 1n },
    });
    const body = (p: { params: TicketParams; price: PriceInfo }) => ({
      orchestrator: b64(orchestratorInfo(p)),
      ManifestID: 'manifest',
      inPixels: 1000,
    });
    const a = await postJson(`${signer.httpUrl}/generate-live-payment`, body(dear));
    expect(a.status, JSON.stringify(a.body)).toBe(481);
    expect(errorCode(a)).toBe('PRICE_TOO_HIGH');
    expect(await nonceOf(dear)).toBeUndefined();
    const stranger = await freshParams(chain, orch, {
      recipient: hexToBytes('0x' + '42'.repeat(20), 'r', 20),
    });
    const b = await postJson(`${signer.httpUrl}/generate-live-payment`, body(stranger));
    expect(b.status, JSON.stringify(b.body)).toBe(403);
    expect(errorCode(b)).toBe('RECIPIENT_NOT_ALLOWED');
    expect(hook.calls).toHaveLength(0);
  });

  it("reads the callback's maxPrice number exactly (0.99999999999999999 is not 1)", async () => {
    hook.reply = () => ({
      status: 200,
      body: '{"status":200,"maxPrice":{"price":0.99999999999999999,"currency":"wei","unit":"seconds"}}',
    });
    const p = await freshParams(chain, orch, { price: { ...DEFAULT_PRICE, pricePerUnit: 1n } });
    const a = await postJson(`${signer.httpUrl}/generate-live-payment`, {
      orchestrator: b64(orchestratorInfo(p)),
      ManifestID: 'manifest',
      type: 'live',
    });
    expect(a.status, JSON.stringify(a.body)).toBe(481);
    expect(errorMessage(a)).toContain('auth webhook maxPrice');
    expect(await nonceOf(p)).toBeUndefined();
  });

  it('webhook down: refused (fail closed), nothing signed', async () => {
    hook.reply = () => 'hang-up';
    const { p, a } = await call();
    expect(a.status).toBe(502);
    expect(errorCode(a)).toBe('WEBHOOK_FAILED');
    expect(await nonceOf(p)).toBeUndefined();
  });

  it('seals the state with the account key (go-livepeer style) and refuses a forged one', async () => {
    reply(200, { status: 200 });
    const { p, a } = await call();
    const state = a.body.state as { State: string; Sig: string };
    expect(Buffer.from(state.Sig, 'base64')).toHaveLength(65);
    const digest = personalDigest(keccak256(Buffer.from(state.State, 'base64')));
    expect(bytesToHex(nobleBackend.recoverAddress(digest, Buffer.from(state.Sig, 'base64'))!)).toBe(funded);
    const forged = Buffer.from(JSON.stringify({ ...stateOf(a), Balance: '1000000000000' })).toString(
      'base64',
    );
    const refused = await postJson(`${signer.httpUrl}/generate-live-payment`, {
      orchestrator: b64(orchestratorInfo(p)),
      ManifestID: 'manifest',
      inPixels: 1000,
      state: { State: forged, Sig: state.Sig },
    });
    expect(errorCode(refused)).toBe('INVALID_STATE_SIGNATURE');
    expect(await nonceOf(p)).toBe(1);
  });
});
