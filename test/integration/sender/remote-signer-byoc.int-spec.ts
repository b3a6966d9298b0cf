import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePaymentHeader, orchestratorCapabilityPricesCodec, segDataCodec } from '#app/proto';
import {
  balanceAfter,
  bytesToHex,
  hexToBytes,
  keccak256,
  nobleBackend,
  parseRatString,
  personalDigest,
  Rational,
  ticketEV,
  ticketsNeeded,
  type PriceInfo,
  type TicketParams,
} from '#app/ticket';
import { byocJobV1Bytes, signByocJob, signByocJobLegacy } from '../../support/live-gateway/byoc-job.js';
import {
  authToken,
  b64,
  errorCode,
  errorMessage,
  issuedNonce,
  orchestratorInfo,
  postJson,
  stateOf,
  type HttpAnswer,
} from './remote-signer-fixture.js';
import {
  DEFAULT_PRICE,
  freshParams,
  startSenderHarness,
  type Orchestrator,
  type RunningSender,
  type SenderChain,
  type SenderHarness,
} from './sender-fixture.js';

const TOKEN = 'byoc-token-0123456789abcdef';
const MULTI_TOKEN = 'byoc-multi-0123456789abcdef';
const CAPABILITY = 'text-reversal';
/**
 * O's BYOC tariff: 10^8 wei per compute second on a scale of 10^6 units per second (100 wei per
 * unit, under the contact's maxPricePerUnit of 1000).
 */
const BYOC_PRICE: PriceInfo = {
  pricePerUnit: 100_000_000n,
  pixelsPerUnit: 1_000_000n,
  capability: 37,
  constraint: CAPABILITY,
};
/**
 * The price the SDK's byoc-request session carries in `price_info`: O's `/process/token` job price,
 * only its two parts (`job_token_to_orch_info`). 2000/3 wei per unit, a unit being a second.
 */
const JOB_TOKEN_PRICE: PriceInfo = { pricePerUnit: 2000n, pixelsPerUnit: 3n, capability: 0, constraint: '' };

/** A /sign-byoc-job request that must be refused, and how. */
interface Refusal {
  name: string;
  body: unknown;
  headers?: Record<string, string>;
  status: number;
  code: string;
  message?: string;
}

describe('Sender as a go-livepeer remote signer: BYOC and discovery', () => {
  let h: SenderHarness;
  let chain: SenderChain;
  let signer: RunningSender;
  let orch: Orchestrator;
  let funded: string;

  beforeAll(async () => {
    h = await startSenderHarness('remote-signer-byoc', {
      tokens: {
        file: 'byoc-tokens.yaml',
        clients: (c) => [
          { name: 'byoc', token: TOKEN, senders: [c.funded.address] },
          { name: 'multi', token: MULTI_TOKEN, senders: [c.funded.address, c.unfunded.address] },
        ],
      },
      env: { SENDER_REMOTE_SIGNER: 'true' },
    });
    ({ chain, sender: signer, orch, funded } = h);
  });
  afterAll(() => h?.close());

  const auth = (token = TOKEN) => ({ Authorization: `Bearer ${token}` });
  const signJob = (body: unknown, headers: Record<string, string> = auth()) =>
    postJson(`${signer.httpUrl}/sign-byoc-job`, body, headers);
  const pay = (body: unknown) => postJson(`${signer.httpUrl}/generate-live-payment`, body, auth());
  /** One test per refused request: its status and code, and no signature in the answer. */
  const refusesEach = (cases: readonly Refusal[]) => {
    for (const c of cases) {
      it(`${c.name}: ${c.status} ${c.code}, nothing signed`, async () => {
        const a = await signJob(c.body, c.headers ?? auth());
        expect(a.status, JSON.stringify(a.body)).toBe(c.status);
        expect(errorCode(a)).toBe(c.code);
        if (c.message) expect(errorMessage(a)).toContain(c.message);
        expect(a.body.signature).toBeUndefined();
      });
    }
  };
  /**
   * OrchestratorInfo as the SDK's `job_token_to_orch_info` builds it from O's `/process/token`:
   * ticket params, O's address, the job price as `price_info`, and a synthetic auth token.
   */
  const jobTokenInfo = (p: { params: TicketParams; price: PriceInfo }) =>
    b64(
      orchestratorInfo(p, {
        priceInfo: { ...p.price, capability: 0, constraint: '' },
        authToken: { ...authToken(), token: new Uint8Array(0), sessionId: 'byoc-0011223344556677' },
      }),
    );
  const job = {
    id: 'job-1',
    capability: CAPABILITY,
    request: '{"text":"hi"}',
    parameters: '{}',
    timeout_seconds: 30,
  };

  describe('POST /sign-byoc-job', () => {
    it('answers {sender, signature} as go-livepeer: EIP-55 sender, personal-sign of keccak256(V1 bytes)', async () => {
      const a = await signJob({ ...job, signature_format: 'v1' });
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      expect(Object.keys(a.body).sort()).toEqual(['sender', 'signature']);
      expect(a.body.sender).toBe(chain.funded.address);
      expect(a.body.signature).toMatch(/^0x[0-9a-f]{130}$/);
      const sig = hexToBytes(a.body.signature as string, 'signature', 65);
      expect([27, 28]).toContain(sig[64]);
      // The V1 bytes as the independent gateway client builds them (test/support/live-gateway).
      const flat = byocJobV1Bytes({ ...job, timeoutSeconds: job.timeout_seconds });
      const digest = personalDigest(keccak256(flat));
      expect(bytesToHex(nobleBackend.recoverAddress(digest, sig)!)).toBe(funded);
    });

    it('gives the independent gateway client credentials a BYOC orchestrator accepts', async () => {
      const creds = await signByocJob(
        signer.httpUrl,
        { ...job, request: '{"prompt":"naïve café ☕"}', timeoutSeconds: 600 },
        auth(),
      );
      expect(creds.sender).toBe(chain.funded.address);
    });

    it('signs each field: another id, capability, request, parameters or timeout is another signature', async () => {
      const base = (await signJob(job)).body.signature;
      for (const change of [
        { id: 'job-2' },
        { capability: 'other' },
        { request: '{"text":"ho"}' },
        { parameters: '{"a":1}' },
        { timeout_seconds: 31 },
      ]) {
        const a = await signJob({ ...job, ...change });
        expect(a.status).toBe(200);
        expect(a.body.signature, JSON.stringify(change)).not.toBe(base);
      }
    });

    it('uses the account the caller names when its token has several', async () => {
      const a = await signJob(job, { ...auth(MULTI_TOKEN), 'Ticketpay-Sender': chain.unfunded.address });
      expect(a.status).toBe(200);
      expect(a.body.sender).toBe(chain.unfunded.address);
    });

    const bad: Refusal[] = [
      { name: 'no token', body: job, headers: {}, status: 401, code: 'UNAUTHENTICATED' },
      {
        name: 'unknown token',
        body: job,
        headers: auth('nope-nope-nope-nope'),
        status: 401,
        code: 'UNAUTHENTICATED',
      },
      {
        name: 'account the token may not use',
        body: job,
        headers: { ...auth(), 'Ticketpay-Sender': '0x' + '42'.repeat(20) },
        status: 403,
        code: 'ACCOUNT_NOT_PERMITTED',
      },
      { name: 'invalid JSON', body: '{not-json', status: 400, code: 'INVALID_REQUEST' },
      {
        name: 'empty id',
        body: { ...job, id: '' },
        status: 400,
        code: 'INVALID_REQUEST',
        message: 'sign-byoc-job requires non-empty id and capability',
      },
      {
        name: 'missing capability',
        body: { ...job, capability: undefined },
        status: 400,
        code: 'INVALID_REQUEST',
        message: 'sign-byoc-job requires non-empty id and capability',
      },
      {
        name: 'zero timeout',
        body: { ...job, timeout_seconds: 0 },
        status: 400,
        code: 'INVALID_REQUEST',
        message: 'sign-byoc-job requires positive timeout_seconds',
      },
      {
        name: 'timeout beyond 32 bits',
        body: { ...job, timeout_seconds: 2 ** 32 },
        status: 400,
        code: 'INVALID_REQUEST',
        message: 'timeout_seconds',
      },
      {
        name: 'fractional timeout',
        body: { ...job, timeout_seconds: 1.5 },
        status: 400,
        code: 'INVALID_REQUEST',
      },
      {
        name: 'request not a string',
        body: { ...job, request: { text: 'hi' } },
        status: 400,
        code: 'INVALID_REQUEST',
      },
      {
        name: 'another signing format',
        body: { ...job, signature_format: 'v0' },
        status: 400,
        code: 'INVALID_REQUEST',
      },
    ];
    refusesEach(bad);
  });

  describe('POST /sign-byoc-job, legacy format (the Python SDK sends only request and parameters)', () => {
    /** What the orchestrator checks: personal-sign of keccak256 of the UTF-8 of request + parameters. */
    const recoverLegacy = (request: string, parameters: string, signature: unknown) => {
      const payload = new Uint8Array(Buffer.from(request + parameters, 'utf8'));
      const sig = hexToBytes(signature as string, 'signature', 65);
      return bytesToHex(nobleBackend.recoverAddress(personalDigest(keccak256(payload)), sig)!);
    };

    it("signs exactly the bytes of request + parameters, answering {sender, signature} as go-livepeer's", async () => {
      const body = { request: '{"prompt":"naïve café ☕"}', parameters: '{"options_filter":{"gpu":"a"}}' };
      const a = await signJob(body);
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      expect(Object.keys(a.body).sort()).toEqual(['sender', 'signature']);
      expect(a.body.sender).toBe(chain.funded.address);
      expect(a.body.signature).toMatch(/^0x[0-9a-f]{130}$/);
      expect([27, 28]).toContain(hexToBytes(a.body.signature as string, 'signature', 65)[64]);
      expect(recoverLegacy(body.request, body.parameters, a.body.signature)).toBe(funded);
      // Plain concatenation: where request ends and parameters begin is not signed.
      const moved = await signJob({
        request: body.request.slice(0, 5),
        parameters: body.request.slice(5) + body.parameters,
      });
      expect(moved.body.signature).toBe(a.body.signature);
      // Not the V1 signature of the same fields.
      const v1 = await signJob({ ...job, request: body.request, parameters: body.parameters });
      expect(v1.body.signature).not.toBe(a.body.signature);
    });

    it('gives the independent SDK-style client credentials a legacy BYOC orchestrator accepts', async () => {
      const creds = await signByocJobLegacy(
        signer.httpUrl,
        { request: '{"text":"hi"}', parameters: '' },
        auth(),
      );
      expect(creds.sender).toBe(chain.funded.address);
    });

    // The SDK signs the job's whole body, an image or audio input included.
    it('signs a job body of up to 1 MiB, as go-livepeer bounds it; a larger one is 413', async () => {
      const request = JSON.stringify({ image: 'A'.repeat(900 * 1024) });
      const a = await signJob({ request, parameters: '{}' });
      expect(a.status, JSON.stringify(a.body).slice(0, 300)).toBe(200);
      expect(recoverLegacy(request, '{}', a.body.signature)).toBe(funded);
      const over = await signJob({ request: 'A'.repeat(1024 * 1024), parameters: '' });
      expect(over.status).toBe(413);
    });

    it('signs explicitly empty request and parameters, as an upstream branch does', async () => {
      const a = await signJob({ request: '', parameters: '' });
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      expect(recoverLegacy('', '', a.body.signature)).toBe(funded);
    });

    it('uses the account the caller names when its token has several', async () => {
      const a = await signJob(
        { request: 'r', parameters: 'p' },
        { ...auth(MULTI_TOKEN), 'Ticketpay-Sender': chain.unfunded.address },
      );
      expect(a.status).toBe(200);
      expect(a.body.sender).toBe(chain.unfunded.address);
      expect(recoverLegacy('r', 'p', a.body.signature)).toBe(chain.unfunded.address.toLowerCase());
    });

    const bad: Refusal[] = [
      {
        name: 'no token',
        body: { request: 'r', parameters: '' },
        headers: {},
        status: 401,
        code: 'UNAUTHENTICATED',
      },
      {
        name: 'a body naming no job',
        body: {},
        status: 400,
        code: 'INVALID_REQUEST',
        message: 'requires request and parameters (legacy) or id, capability and timeout_seconds (V1)',
      },
      {
        name: 'null request and parameters',
        body: { request: null, parameters: null },
        status: 400,
        code: 'INVALID_REQUEST',
        message: 'requires request and parameters',
      },
      {
        name: 'a V1 field beside them (then it is a V1 request)',
        body: { request: 'r', parameters: 'p', signature_format: 'v1' },
        status: 400,
        code: 'INVALID_REQUEST',
        message: 'sign-byoc-job requires non-empty id and capability',
      },
      {
        name: 'request not a string',
        body: { request: { text: 'hi' }, parameters: '' },
        status: 400,
        code: 'INVALID_REQUEST',
        message: 'request must be a string',
      },
    ];
    refusesEach(bad);

    it('refuses to sign a state: its signature would seal a state the caller made up', async () => {
      // This signer seals states with the account (no state secret): Sig = personal-sign of keccak256(State).
      const p = await freshParams(chain, orch, { price: JOB_TOKEN_PRICE });
      const a = await pay({ orchestrator: jobTokenInfo(p), type: 'byoc-request', inPixels: 4_500_001 });
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      const { State, Sig } = a.body.state as { State: string; Sig: string };
      const digest = personalDigest(keccak256(new Uint8Array(Buffer.from(State, 'base64'))));
      const sealer = nobleBackend.recoverAddress(digest, new Uint8Array(Buffer.from(Sig, 'base64')));
      expect(bytesToHex(sealer!)).toBe(funded);
      // A state granting itself a webhook authorisation until 2096, offered as job text.
      const forged = JSON.stringify({ ...stateOf(a), AuthExpiry: 4_000_000_000 });
      const r = await signJob({ request: forged.slice(0, 30), parameters: forged.slice(30) });
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(errorCode(r)).toBe('INVALID_REQUEST');
      expect(errorMessage(r)).toContain('the payload is a remote-signer state');
      expect(r.body.signature).toBeUndefined();
    });
  });

  describe('GET /discover-orchestrators', () => {
    it('answers 503 as go-livepeer without an orchestrator pool', async () => {
      const res = await fetch(`${signer.httpUrl}/discover-orchestrators?caps=${CAPABILITY}`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as HttpAnswer['body'];
      expect(body.error).toMatchObject({
        code: 'DISCOVERY_UNAVAILABLE',
        message: 'no orchestrator pool configured',
      });
    });
  });

  describe('POST /generate-live-payment with type byoc', () => {
    type Params = { params: TicketParams; price: PriceInfo };
    /** O's info as a BYOC orchestrator sends it: a base price, and the capability's in field 33. */
    const byocInfo = (p: Params, entries: PriceInfo[] = [BYOC_PRICE]) => {
      const base = orchestratorInfo(p, { priceInfo: DEFAULT_PRICE });
      const zero = { ...BYOC_PRICE, pricePerUnit: 0n };
      const other = { ...BYOC_PRICE, constraint: 'other', pricePerUnit: 1n };
      const extra = orchestratorCapabilityPricesCodec.encode([zero, other, ...entries]);
      return b64(Buffer.concat([base, extra]));
    };
    const byocParams = () => freshParams(chain, orch, { price: BYOC_PRICE });
    const nonceOf = (p: Params) => issuedNonce(signer.app, funded, p.params.recipientRandHash);

    it("prepays max(timeoutSeconds, 60) s at the capability's per-second price, then whole seconds", async () => {
      const p = await byocParams();
      const one = await pay({
        orchestrator: byocInfo(p),
        type: 'byoc',
        ManifestID: CAPABILITY,
        timeoutSeconds: 90,
      });
      expect(one.status, JSON.stringify(one.body)).toBe(200);
      const pay1 = decodePaymentHeader(one.body.payment as string);
      // 90 s × 10^8 wei = 9 · 10^9 wei = 9 tickets of EV ≈ 10^9 (exactly as O's winProb rounds).
      const ev = ticketEV(p.params.faceValue, p.params.winProb);
      const fee1 = Rational.of(90n * 100_000_000n);
      expect(pay1.ticketSenderParams).toHaveLength(Number(ticketsNeeded(Rational.ZERO, fee1, ev)));
      expect(pay1.ticketSenderParams).toHaveLength(9);
      expect(pay1.expectedPrice).toEqual(BYOC_PRICE);
      const s1 = stateOf(one);
      expect(s1.Type).toBe('byoc');
      expect(s1.InitialPricePerUnit).toBe(100_000_000);
      expect(s1.InitialPixelsPerUnit).toBe(1_000_000);
      const bal1 = balanceAfter(Rational.ZERO, 9n, ev, fee1);
      expect(parseRatString(s1.Balance as string).equals(bal1)).toBe(true);

      const two = await pay({
        orchestrator: byocInfo(p),
        type: 'byoc',
        ManifestID: CAPABILITY,
        state: one.body.state,
      });
      expect(two.status, JSON.stringify(two.body)).toBe(200);
      expect(decodePaymentHeader(two.body.payment as string).ticketSenderParams).toHaveLength(1);
      // One more ticket, less the started seconds since the first call at 10^8 wei each.
      const charged = bal1.add(ev).sub(parseRatString(stateOf(two).Balance as string));
      const seconds = [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n].find((k) =>
        charged.equals(Rational.of(k * 100_000_000n)),
      );
      expect(seconds, charged.toString()).toBeDefined();
      expect(await nonceOf(p)).toBe(10);
    });

    it('prepays 60 s when no timeout is given', async () => {
      const p = await byocParams();
      const a = await pay({ orchestrator: byocInfo(p), type: 'byoc', ManifestID: CAPABILITY });
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      expect(decodePaymentHeader(a.body.payment as string).ticketSenderParams).toHaveLength(6);
    });

    // livepeer-python-gateway byoc.py `_create_byoc_payment`: json.dumps({"orchestrator": <O's
    // /process/token orchestrator_info>, "type": "byoc", "capability": <name>}), no ManifestID.
    it("serves the Python SDK's BYOC payment: the capability named by `capability`", async () => {
      const p = await byocParams();
      const a = await postJson(
        `${signer.httpUrl}/generate-live-payment`,
        `{"orchestrator": "${byocInfo(p)}", "type": "byoc", "capability": "${CAPABILITY}"}`,
        { ...auth(), 'User-Agent': 'Python-urllib/3.12' },
      );
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      const paid = decodePaymentHeader(a.body.payment as string);
      expect(paid.expectedPrice).toEqual(BYOC_PRICE);
      expect(paid.ticketSenderParams).toHaveLength(6); // 60 s at 10^8 wei
      // The job accounts under the capability's name, as go-livepeer's byoc-v2 signer does.
      const seg = segDataCodec.decode(Buffer.from(a.body.segCreds as string, 'base64'));
      expect(Buffer.from(seg.manifestId).toString()).toBe(CAPABILITY);
    });

    it('takes the capability from a BYOC price_info when the request names none (byoc-v2)', async () => {
      const p = await byocParams();
      const info = b64(orchestratorInfo(p, { priceInfo: BYOC_PRICE }));
      const a = await pay({ orchestrator: info, type: 'byoc' });
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      expect(decodePaymentHeader(a.body.payment as string).expectedPrice).toEqual(BYOC_PRICE);
    });

    const refusals: { name: string; body: (p: Params) => unknown; message: string }[] = [
      {
        name: 'no ManifestID naming the capability',
        body: (p) => ({ orchestrator: byocInfo(p), type: 'byoc' }),
        message: 'missing manifestID for BYOC capability',
      },
      {
        name: 'no price for the capability',
        body: (p) => ({ orchestrator: byocInfo(p, []), type: 'byoc', ManifestID: CAPABILITY }),
        message: `missing or zero priceInfo for BYOC capability "${CAPABILITY}"`,
      },
      {
        name: 'a maxPrice, which has no BYOC unit',
        body: (p) => ({
          orchestrator: byocInfo(p),
          type: 'byoc',
          ManifestID: CAPABILITY,
          maxPrice: { price: 1, currency: 'wei', unit: 'seconds' },
        }),
        message: 'maxPrice',
      },
      {
        name: 'the capability name as the type (an SDK variant)',
        body: (p) => ({ orchestrator: byocInfo(p), type: CAPABILITY, ManifestID: CAPABILITY }),
        message: 'invalid job type',
      },
    ];
    // go-livepeer's BYOC signer reads the job type, its units and the price after
    // shouldRefreshSession: with expired params these requests are 480 (refresh), not 400.
    for (const r of refusals.slice(2)) {
      it(`${r.name}, with expired ticket params: 480 first`, async () => {
        const p = await freshParams(chain, orch, { price: BYOC_PRICE }, 1n);
        const a = await pay(r.body(p));
        expect(a.status, JSON.stringify(a.body)).toBe(480);
        expect(errorCode(a)).toBe('REFRESH_SESSION');
        expect(await nonceOf(p)).toBeUndefined();
      });
    }

    for (const r of refusals) {
      it(`${r.name}: 400 INVALID_REQUEST, no nonce taken`, async () => {
        const p = await byocParams();
        const a = await pay(r.body(p));
        expect(a.status, JSON.stringify(a.body)).toBe(400);
        expect(errorCode(a)).toBe('INVALID_REQUEST');
        expect(errorMessage(a)).toContain(r.message);
        expect(await nonceOf(p)).toBeUndefined();
      });
    }
  });
  describe('POST /generate-live-payment with type byoc-request (the Python SDK)', () => {
    type Params = { params: TicketParams; price: PriceInfo };
    const reqParams = () => freshParams(chain, orch, { price: JOB_TOKEN_PRICE });
    const nonceOf = (p: Params) => issuedNonce(signer.app, funded, p.params.recipientRandHash);
    /** 4 500 001 s at 2000/3 wei: 9 000 002 000/3 wei, not a whole number. */
    const SECONDS = 4_500_001;
    const FEE = Rational.of(2000n * BigInt(SECONDS), 3n);

    it('prepays inPixels seconds at price_info, exactly, on every call; no ManifestID needed', async () => {
      const p = await reqParams();
      const ev = ticketEV(p.params.faceValue, p.params.winProb);
      // What the SDK's PaymentSession posts: orchestrator, type, inPixels (and state after the first call).
      const one = await pay({ orchestrator: jobTokenInfo(p), type: 'byoc-request', inPixels: SECONDS });
      expect(one.status, JSON.stringify(one.body)).toBe(200);
      const pay1 = decodePaymentHeader(one.body.payment as string);
      const n1 = ticketsNeeded(Rational.ZERO, FEE, ev);
      expect(n1).toBe(4n);
      expect(pay1.ticketSenderParams).toHaveLength(Number(n1));
      expect(pay1.expectedPrice).toEqual(JOB_TOKEN_PRICE);
      expect(typeof one.body.segCreds).toBe('string');
      const s1 = stateOf(one);
      expect(s1.Type).toBe('byoc-request');
      expect([s1.InitialPricePerUnit, s1.InitialPixelsPerUnit]).toEqual([2000, 3]);
      const bal1 = balanceAfter(Rational.ZERO, n1, ev, FEE);
      expect(parseRatString(s1.Balance as string).equals(bal1)).toBe(true);
      expect(await nonceOf(p)).toBe(4);

      // The SDK's session has no ManifestID to resend; a continuing call needs one, as for every type.
      const noManifest = await pay({
        orchestrator: jobTokenInfo(p),
        type: 'byoc-request',
        inPixels: SECONDS,
        state: one.body.state,
      });
      expect(noManifest.status).toBe(400);
      expect(errorMessage(noManifest)).toContain('missing manifestID');

      // Billed by inPixels again, not by elapsed time.
      const two = await pay({
        orchestrator: jobTokenInfo(p),
        type: 'byoc-request',
        inPixels: SECONDS,
        ManifestID: 'byoc-job',
        state: one.body.state,
      });
      expect(two.status, JSON.stringify(two.body)).toBe(200);
      const n2 = ticketsNeeded(bal1, FEE, ev);
      expect(decodePaymentHeader(two.body.payment as string).ticketSenderParams).toHaveLength(Number(n2));
      const bal2 = balanceAfter(bal1, n2, ev, FEE);
      expect(parseRatString(stateOf(two).Balance as string).equals(bal2)).toBe(true);
      expect(stateOf(two).SequenceNumber).toBe(1);
      expect(await nonceOf(p)).toBe(4 + Number(n2));
    });

    it('keeps a session to its type: byoc-request and other states do not mix (STATE_MISMATCH)', async () => {
      const p = await reqParams();
      // The same O with its capability price in field 33 too, so a byoc call gets as far as the state.
      const withCapability = b64(
        Buffer.concat([
          Buffer.from(jobTokenInfo(p), 'base64'),
          orchestratorCapabilityPricesCodec.encode([BYOC_PRICE]),
        ]),
      );
      const one = await pay({ orchestrator: withCapability, type: 'byoc-request', inPixels: SECONDS });
      expect(one.status, JSON.stringify(one.body)).toBe(200);
      for (const type of ['', 'byoc', 'lv2v']) {
        const a = await pay({
          orchestrator: withCapability,
          type,
          inPixels: SECONDS,
          ManifestID: CAPABILITY,
          state: one.body.state,
        });
        expect(a.status, `${type}: ${JSON.stringify(a.body)}`).toBe(400);
        expect(errorCode(a)).toBe('STATE_MISMATCH');
      }
      expect(await nonceOf(p)).toBe(4);

      // And a byoc session's state is not taken as byoc-request (another O session: other price).
      const q = await freshParams(chain, orch, { price: BYOC_PRICE });
      const info = b64(orchestratorInfo(q, { priceInfo: BYOC_PRICE }));
      const byoc = await pay({ orchestrator: info, type: 'byoc', ManifestID: CAPABILITY });
      expect(byoc.status, JSON.stringify(byoc.body)).toBe(200);
      const nonce = await nonceOf(q);
      const back = await pay({
        orchestrator: info,
        type: 'byoc-request',
        inPixels: SECONDS,
        ManifestID: CAPABILITY,
        state: byoc.body.state,
      });
      expect(back.status, JSON.stringify(back.body)).toBe(400);
      expect(errorCode(back)).toBe('STATE_MISMATCH');
      expect(await nonceOf(q)).toBe(nonce);
    });

    const refusals: { name: string; body: (p: Params) => unknown; message: string }[] = [
      {
        name: 'no inPixels',
        body: (p) => ({ orchestrator: jobTokenInfo(p), type: 'byoc-request' }),
        message: 'byoc-request requires positive inPixels',
      },
      {
        name: 'zero inPixels',
        body: (p) => ({ orchestrator: jobTokenInfo(p), type: 'byoc-request', inPixels: 0 }),
        message: 'byoc-request requires positive inPixels',
      },
      {
        name: 'negative inPixels',
        body: (p) => ({ orchestrator: jobTokenInfo(p), type: 'byoc-request', inPixels: -60 }),
        message: 'byoc-request requires positive inPixels',
      },
      {
        name: 'fractional inPixels',
        body: (p) => ({ orchestrator: jobTokenInfo(p), type: 'byoc-request', inPixels: 60.5 }),
        message: 'inPixels must be an integer',
      },
      {
        name: 'a maxPrice, which has no unit for it',
        body: (p) => ({
          orchestrator: jobTokenInfo(p),
          type: 'byoc-request',
          inPixels: 60,
          maxPrice: { price: 1000, currency: 'wei', unit: 'seconds' },
        }),
        message: 'maxPrice',
      },
      {
        name: 'a zero job price',
        body: (p) => ({
          orchestrator: b64(orchestratorInfo(p, { priceInfo: { ...JOB_TOKEN_PRICE, pricePerUnit: 0n } })),
          type: 'byoc-request',
          inPixels: 60,
        }),
        message: 'missing or zero priceInfo',
      },
    ];
    for (const r of refusals) {
      it(`${r.name}: 400 INVALID_REQUEST, no nonce taken`, async () => {
        const p = await reqParams();
        const a = await pay(r.body(p));
        expect(a.status, JSON.stringify(a.body)).toBe(400);
        expect(errorCode(a)).toBe('INVALID_REQUEST');
        expect(errorMessage(a)).toContain(r.message);
        expect(a.body.payment).toBeUndefined();
        expect(await nonceOf(p)).toBeUndefined();
      });
    }
  });
});
