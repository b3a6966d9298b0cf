import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decodePaymentHeader, orchestratorCapabilityPricesCodec } from '#app/proto';
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
import { byocJobV1Bytes, signByocJob } from '../../support/live-gateway/byoc-job.js';
import {
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
  bootSender,
  DEFAULT_PRICE,
  freshParams,
  newOrchestrator,
  senderEnv,
  startSenderChain,
  writeSenderFiles,
  type Env,
  type Orchestrator,
  type RunningSender,
  type SenderChain,
  type SenderFiles,
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

describe('Sender as a go-livepeer remote signer: BYOC and discovery', () => {
  let chain: SenderChain;
  let files: SenderFiles;
  let signer: RunningSender;
  let orch: Orchestrator;
  let funded: string;

  beforeAll(async () => {
    chain = await startSenderChain();
    files = await writeSenderFiles(chain);
    funded = chain.funded.address.toLowerCase();
    const tokensFile = join(files.dir, 'byoc-tokens.yaml');
    writeFileSync(
      tokensFile,
      [
        'clients:',
        '  - name: byoc',
        `    token: "${TOKEN}"`,
        `    senders: ["${chain.funded.address}"]`,
        '  - name: multi',
        `    token: "${MULTI_TOKEN}"`,
        `    senders: ["${chain.funded.address}", "${chain.unfunded.address}"]`,
        '',
      ].join('\n'),
    );
    const env: Env = senderEnv(chain, files, {
      url: inject('redisUrl'),
      prefix: `${inject('redisPrefix')}remote-signer-byoc:`,
    });
    signer = await bootSender({ ...env, SENDER_API_TOKENS_FILE: tokensFile, SENDER_REMOTE_SIGNER: 'true' });
    orch = newOrchestrator(chain.recipient);
  });
  afterAll(async () => {
    await signer?.close();
    await chain?.stop();
    files?.cleanup();
  });

  const auth = (token = TOKEN) => ({ Authorization: `Bearer ${token}` });
  const signJob = (body: unknown, headers: Record<string, string> = auth()) =>
    postJson(`${signer.httpUrl}/sign-byoc-job`, body, headers);
  const pay = (body: unknown) => postJson(`${signer.httpUrl}/generate-live-payment`, body, auth());
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

    type Bad = {
      name: string;
      body: unknown;
      headers?: Record<string, string>;
      status: number;
      code: string;
      message?: string;
    };
    const bad: Bad[] = [
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
      { name: 'invalid JSON', body: '{not-json', status: 400, code: 'BAD_REQUEST' },
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
    for (const c of bad) {
      it(`${c.name}: ${c.status} ${c.code}, nothing signed`, async () => {
        const a = await signJob(c.body, c.headers ?? auth());
        expect(a.status, JSON.stringify(a.body)).toBe(c.status);
        expect(errorCode(a)).toBe(c.code);
        if (c.message) expect(errorMessage(a)).toContain(c.message);
        expect(a.body.signature).toBeUndefined();
      });
    }
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
});
