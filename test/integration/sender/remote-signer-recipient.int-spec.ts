import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decodePaymentHeader, priceInfoCodec, ticketParamsCodec } from '#app/proto';
import { Rational, ticketEV, ticketsNeeded } from '#app/ticket';
import {
  issue,
  ratio,
  startHarness,
  type RecipientHarness,
  type RunningRecipient,
  type TestSender,
} from '../recipient/recipient-fixture.js';
import { authToken, b64, orchestratorInfo, postJson, stateOf } from './remote-signer-fixture.js';
import { bootSender, writeKeystore, type RunningSender } from './sender-fixture.js';

const PASSWORD = 'remote-signer-recipient-password';

// A payment from /generate-live-payment, sent to our real Recipient in the Livepeer-Payment header
// form (what go-livepeer's orchestrator receives), is accepted ticket by ticket and credited exactly.
describe('remote signer payments at the Recipient', () => {
  let h: RecipientHarness;
  let payer: TestSender;
  let recipient: RunningRecipient;
  let signer: RunningSender;
  let dir: string;

  beforeAll(async () => {
    h = await startHarness('remote-signer-recipient');
    payer = await h.newSender();
    recipient = await h.boot();
    dir = mkdtempSync(join(tmpdir(), 'ticketpay-remote-signer-'));
    const keystore = join(dir, 'payer.json');
    await writeKeystore(keystore, payer.wallet.privateKey, PASSWORD);
    // Loopback without tokens or webhook: allowed (with a warning), as go-livepeer allows it.
    signer = await bootSender({
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: `${inject('redisPrefix')}remote-signer-recipient-sender:`,
      ETH_RPC_URL: h.anvil.url,
      CONTROLLER_ADDRESS: h.protocol.controller,
      SENDER_KEYSTORE_FILES: keystore,
      SENDER_KEYSTORE_PASSWORD: PASSWORD,
      SENDER_REMOTE_SIGNER: 'true',
    });
  });
  afterAll(async () => {
    await signer?.close();
    await h?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('credits every ticket of a live session exactly, call after call, with continuing nonces', async () => {
    // 4 gwei per second against ~8 gwei tickets: every call of a live session needs tickets.
    const issued = await issue(recipient, payer, { pricePerUnit: '4000000000', pixelsPerUnit: '1' });
    const params = ticketParamsCodec.fromMessage(issued.ticketParams);
    const price = priceInfoCodec.fromMessage(issued.priceInfo);
    const ev = ticketEV(params.faceValue, params.winProb);
    const info = b64(orchestratorInfo({ params, price }));

    let state: unknown;
    let credited = Rational.ZERO;
    const nonces: number[] = [];
    for (let call = 0; call < 3; call++) {
      if (call > 0) await new Promise((resolve) => setTimeout(resolve, 1_100));
      const body = { orchestrator: info, ManifestID: 'stream-1', type: 'live', ...(state ? { state } : {}) };
      const a = await postJson(`${signer.httpUrl}/generate-live-payment`, body);
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      state = a.body.state;
      const payment = decodePaymentHeader(a.body.payment as string);
      nonces.push(...payment.ticketSenderParams.map((t) => t.senderNonce));
      const res = await recipient.client.processPayment({
        paymentHeader: a.body.payment as string,
        jobId: 'stream-1',
      });
      const n = payment.ticketSenderParams.length;
      expect(res.acceptedCount).toBe(n);
      expect(res.tickets.every((t) => t.accepted)).toBe(true);
      const want = ev.mul(Rational.of(BigInt(n)));
      expect(ratio(res.credited)).toBe(`${want.num}/${want.den}`);
      credited = credited.add(want);
      expect(ratio(res.balance)).toBe(`${credited.num}/${credited.den}`);
      // The signer's balance is the credit O holds beyond what was charged: never negative.
      expect(String(stateOf(a).Balance).startsWith('-')).toBe(false);
    }
    expect(nonces.length).toBeGreaterThan(5); // 10 s prepaid = 5 tickets, then more each call
    expect(nonces).toEqual(nonces.map((_, i) => i + 1));
    const balance = await recipient.client.balance({ sender: payer.address, jobId: 'stream-1' });
    expect(ratio(balance.balance)).toBe(`${credited.num}/${credited.den}`);
  });

  it('pays untyped pixels at the initial price: the Recipient credits at least the fee', async () => {
    const issued = await issue(recipient, payer);
    const params = ticketParamsCodec.fromMessage(issued.ticketParams);
    const price = priceInfoCodec.fromMessage(issued.priceInfo);
    const ev = ticketEV(params.faceValue, params.winProb);
    const inPixels = 50_000_000; // 1200 wei per pixel: 6·10^10 wei, several 8 gwei tickets
    const a = await postJson(`${signer.httpUrl}/generate-live-payment`, {
      orchestrator: b64(orchestratorInfo({ params, price })),
      ManifestID: 'stream-2',
      inPixels,
    });
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    const n = BigInt(decodePaymentHeader(a.body.payment as string).ticketSenderParams.length);
    const fee = Rational.of(price.pricePerUnit * BigInt(inPixels), price.pixelsPerUnit);
    const res = await recipient.client.processPayment({
      paymentHeader: a.body.payment as string,
      jobId: 'stream-2',
    });
    const credited = ev.mul(Rational.of(n));
    expect(ratio(res.credited)).toBe(`${credited.num}/${credited.den}`);
    expect(credited.cmp(fee)).toBeGreaterThanOrEqual(0);
    expect(credited.sub(ev).cmp(fee)).toBeLessThan(0);
  });

  it("pays the SDK's byoc-request: inPixels seconds at the job price, credited exactly by the Recipient", async () => {
    // O's job price as /process/token hands it to the SDK: 2000/3 wei per second.
    const issued = await issue(recipient, payer, { pricePerUnit: '2000', pixelsPerUnit: '3' });
    const params = ticketParamsCodec.fromMessage(issued.ticketParams);
    const price = priceInfoCodec.fromMessage(issued.priceInfo);
    const ev = ticketEV(params.faceValue, params.winProb);
    const seconds = 40_000_001;
    // As the SDK's job_token_to_orch_info builds it: price_info, a synthetic auth token, no ManifestID.
    const info = orchestratorInfo(
      { params, price },
      { authToken: { ...authToken(), token: new Uint8Array(0), sessionId: 'byoc-00aa' } },
    );
    const a = await postJson(`${signer.httpUrl}/generate-live-payment`, {
      orchestrator: b64(info),
      type: 'byoc-request',
      inPixels: seconds,
    });
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(stateOf(a).Type).toBe('byoc-request');
    const fee = Rational.of(2000n * BigInt(seconds), 3n);
    const n = ticketsNeeded(Rational.ZERO, fee, ev);
    expect(n).toBeGreaterThan(1n);
    expect(decodePaymentHeader(a.body.payment as string).ticketSenderParams).toHaveLength(Number(n));
    // A BYOC orchestrator processes the payment under the capability name.
    const res = await recipient.client.processPayment({
      paymentHeader: a.body.payment as string,
      jobId: 'text-reversal',
    });
    expect(res.acceptedCount).toBe(Number(n));
    const credited = ev.mul(Rational.of(n));
    expect(ratio(res.credited)).toBe(`${credited.num}/${credited.den}`);
    const balance = await recipient.client.balance({ sender: payer.address, jobId: 'text-reversal' });
    expect(ratio(balance.balance)).toBe(`${credited.num}/${credited.den}`);
  });
});
