import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePaymentHeader, segDataCodec } from '#app/proto';
import {
  bytesToHex,
  hexToBytes,
  parseRatString,
  Rational,
  ratString,
  ticketEV,
  type PriceInfo,
  type TicketParams,
} from '#app/ticket';
import {
  signedAttestation,
  signedQuote,
  type WireAttestation,
  type WireQuote,
} from '../../support/live-gateway/usage-quote.js';
import {
  b64,
  errorCode,
  errorMessage,
  issuedNonce,
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
  freshParams,
  RECIPIENT_KEY,
  senderEnv,
  startSenderHarness,
  testRedis,
  writeTokensFile,
  type Orchestrator,
  type RunningSender,
  type SenderChain,
  type SenderFiles,
  type SenderHarness,
} from './sender-fixture.js';

const TOKEN = 'usage-token-0123456789abcdef';
/** A client whose spend cap is two tickets of EV 1 gwei (each counted rounded up), not three. */
const CAPPED_TOKEN = 'usage-capped-token-0123456789abcdef';
/** O's converted sell price: 1000/3 wei per unit (under the contact's 1000), so fees have fractions. */
const PRICE: PriceInfo = { pricePerUnit: 1000n, pixelsPerUnit: 3n, capability: 0, constraint: '' };
/** The orchestrator's key: the recipient's (OrchestratorInfo.address), which signs quotes. */
const ORCH_KEY = hexToBytes(RECIPIENT_KEY, 'key', 32);
/** Another key, whose signatures the signer must refuse. */
const OTHER_KEY = new Uint8Array(32).fill(0x42);

type Params = { params: TicketParams; price: PriceInfo };

describe("Sender as a go-livepeer remote signer: the 'usage' payment type", () => {
  let h: SenderHarness;
  let chain: SenderChain;
  let files: SenderFiles;
  let signer: RunningSender;
  let orch: Orchestrator;
  let webhook: FakeWebhook;
  let funded: string;

  beforeAll(async () => {
    webhook = await startWebhook();
    h = await startSenderHarness('remote-signer-usage', {
      tokens: {
        file: 'usage-tokens.yaml',
        clients: (c) => [
          { name: 'usage', token: TOKEN, senders: [c.funded.address] },
          { name: 'usage-capped', token: CAPPED_TOKEN, senders: [c.funded.address], maxEV: '2500000000' },
        ],
      },
      env: {
        SENDER_REMOTE_SIGNER: 'true',
        SENDER_REMOTE_SIGNER_STATE_SECRET: STATE_SECRET,
        SENDER_REMOTE_SIGNER_WEBHOOK_URL: webhook.url,
      },
    });
    ({ chain, files, sender: signer, orch, funded } = h);
  });
  afterAll(async () => {
    await h?.close();
    await webhook?.close();
  });

  const params = (): Promise<Params> => freshParams(chain, orch, { price: PRICE });
  const evOf = (p: Params) => ticketEV(p.params.faceValue, p.params.winProb);
  const nonceOf = (p: Params) => issuedNonce(signer.app, funded, p.params.recipientRandHash);
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const wireQuote = (over: Partial<WireQuote> = {}): WireQuote => ({
    quote_id: 'q_0123456789abcdef0123',
    app: 'fal-flux',
    manifest_id: 'manifest-u',
    sell_price: '0.026250000000000000',
    sell_unit: 'image',
    upcharge_bps: 500,
    wei_price_per_unit: Number(PRICE.pricePerUnit),
    wei_pixels_per_unit: Number(PRICE.pixelsPerUnit),
    max_units: '1',
    expires_at: nowSeconds() + 300,
    ...over,
  });
  const attestation = (over: Partial<WireAttestation> = {}): WireAttestation => ({
    quote_id: 'q_0123456789abcdef0123',
    billable_units: '1',
    sell_price: '0.026250000000000000',
    cost_wei: '333',
    ...over,
  });

  /**
   * A `/generate-live-payment` body: `fields` as JSON, then `raw` members spliced in as JSON text
   * (a signed quote or attestation keeps its number literals exactly as the orchestrator wrote them).
   */
  function body(p: Params, fields: Record<string, unknown>, raw: Record<string, string> = {}): string {
    const json = JSON.stringify({
      orchestrator: b64(orchestratorInfo(p)),
      type: 'usage',
      ManifestID: 'manifest-u',
      ...fields,
    });
    const extra = Object.entries(raw).map(([k, v]) => `,${JSON.stringify(k)}:${v}`);
    return `${json.slice(0, -1)}${extra.join('')}}`;
  }
  const pay = (text: string, to: RunningSender = signer, token = TOKEN) =>
    postJson(`${to.httpUrl}/generate-live-payment`, text, { Authorization: `Bearer ${token}` });
  const quoted = (q: WireQuote = wireQuote(), key = ORCH_KEY) => signedQuote(q, key);
  const attested = (a: WireAttestation = attestation(), key = ORCH_KEY) => signedAttestation(a, key);

  function paid(a: HttpAnswer) {
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    return decodePaymentHeader(a.body.payment as string);
  }
  const balanceOf = (a: HttpAnswer) => parseRatString(stateOf(a).Balance as string);

  /** A session opened with a signed quote prepaying `maxUnits` (on `to`, as the client of `token`). */
  async function opened(maxUnits = '1', to: RunningSender = signer, token = TOKEN) {
    const p = await params();
    const a = await pay(
      body(p, { app: 'fal-flux' }, { quote: quoted(wireQuote({ max_units: maxUnits })) }),
      to,
      token,
    );
    paid(a);
    return { p, a };
  }
  /** A later call of the session `state` left, settling `units` attested units. */
  const settle = (p: Params, state: unknown, units: string, to: RunningSender = signer, token = TOKEN) =>
    pay(
      body(p, { app: 'fal-flux', state }, { attestation: attested(attestation({ billable_units: units })) }),
      to,
      token,
    );

  it('first call with a signed quote: tickets for max_units at the quoted price, the quote locked in the state', async () => {
    // 6 000 000.5 units at 1000/3 wei: 2 000 000 166.67 wei, three tickets of EV 1 gwei.
    const { p, a } = await opened('6000000.5');
    const payment = paid(a);
    const ev = evOf(p);
    const fee = Rational.of(6_000_000_5n, 10n).mul(Rational.of(1000n, 3n));
    const n = fee.div(ev).ceil();
    expect(BigInt(payment.ticketSenderParams.length)).toBe(n);
    expect(payment.ticketSenderParams.map((t) => t.senderNonce)).toEqual([1, 2, 3]);
    expect(payment.expectedPrice).toMatchObject({ pricePerUnit: 1000n, pixelsPerUnit: 3n });
    expect(bytesToHex(payment.sender!)).toBe(funded);
    const seg = segDataCodec.decode(Buffer.from(a.body.segCreds as string, 'base64'));
    expect(Buffer.from(seg.manifestId).toString()).toBe('manifest-u');
    const s = stateOf(a);
    expect(s).toMatchObject({
      Type: 'usage',
      App: 'fal-flux',
      InitialPricePerUnit: 1000,
      InitialPixelsPerUnit: 3,
      QuoteID: 'q_0123456789abcdef0123',
      SellUnit: 'image',
      UpchargeBps: 500,
      SequenceNumber: 0,
      SenderNonce: 3,
    });
    const keys = Object.keys(s);
    expect(keys.slice(keys.indexOf('AuthID'), keys.indexOf('AuthID') + 4)).toEqual([
      'AuthID',
      'QuoteID',
      'SellUnit',
      'UpchargeBps',
    ]);
    expect(balanceOf(a).equals(ev.mul(Rational.of(n)).sub(fee))).toBe(true);
    expect(await nonceOf(p)).toBe(3);
    // The webhook sees the state the call leaves, quote fields included.
    expect(webhook.calls.at(-1)?.body.state).toMatchObject({
      QuoteID: 'q_0123456789abcdef0123',
      Type: 'usage',
    });
  });

  it('with an attestation: the attested units settle the balance exactly; no tickets needed is a 200 with the state', async () => {
    // max_units 0: no fee, one ticket, a balance of exactly one EV.
    const { p, a } = await opened('0');
    const before = balanceOf(a);
    expect(before.equals(evOf(p))).toBe(true);
    // 0.1 unit at 1000/3 wei: 100/3 wei, covered by the balance.
    const settled = await pay(
      body(
        p,
        { app: 'fal-flux', state: a.body.state },
        { attestation: attested(attestation({ billable_units: '0.1' })) },
      ),
    );
    expect(settled.status, JSON.stringify(settled.body)).toBe(200);
    expect(settled.body.payment).toBe('');
    expect('segCreds' in settled.body).toBe(false);
    const s = stateOf(settled);
    expect(balanceOf(settled).equals(before.sub(Rational.of(100n, 3n)))).toBe(true);
    expect(s).toMatchObject({
      QuoteID: 'q_0123456789abcdef0123',
      SellUnit: 'image',
      UpchargeBps: 500,
      SequenceNumber: 1,
      SenderNonce: 1,
      Type: 'usage',
    });
    expect(await nonceOf(p)).toBe(1);

    // Usage beyond the balance: tickets, nonces continuing, the fee from the exact units.
    const big = '4500000.3';
    const more = await pay(
      body(
        p,
        { app: 'fal-flux', state: settled.body.state },
        { attestation: attested(attestation({ billable_units: big })) },
      ),
    );
    const payment = paid(more);
    const ev = evOf(p);
    const fee = Rational.of(4_500_000_3n, 10n).mul(Rational.of(1000n, 3n));
    const n = fee.sub(balanceOf(settled)).div(ev).ceil();
    expect(BigInt(payment.ticketSenderParams.length)).toBe(n);
    expect(payment.ticketSenderParams[0].senderNonce).toBe(2);
    expect(
      balanceOf(more).equals(
        balanceOf(settled)
          .add(ev.mul(Rational.of(n)))
          .sub(fee),
      ),
    ).toBe(true);
    expect(stateOf(more).SequenceNumber).toBe(2);
    expect(typeof more.body.segCreds).toBe('string');
  });

  it('a first call with both a quote and an attestation charges the attested units', async () => {
    const p = await params();
    const a = await pay(
      body(p, {}, { quote: quoted(), attestation: attested(attestation({ billable_units: '7500000.75' })) }),
    );
    const fee = Rational.of(7_500_000_75n, 100n).mul(Rational.of(1000n, 3n));
    const n = fee.div(evOf(p)).ceil();
    expect(BigInt(paid(a).ticketSenderParams.length)).toBe(n);
    expect(balanceOf(a).equals(evOf(p).mul(Rational.of(n)).sub(fee))).toBe(true);
    expect(stateOf(a).QuoteID).toBe('q_0123456789abcdef0123');
  });

  it('an attested fee equal to the balance leaves "0" (no tickets, state still returned)', async () => {
    const { p, a } = await opened();
    // A replica's state with a round balance (the tests hold the shared seal secret).
    const rich = sealState({ ...stateOf(a), Balance: '3000000000' });
    // 9 000 000 units at 1000/3 wei: exactly 3 000 000 000 wei.
    const r = await pay(
      body(
        p,
        { app: 'fal-flux', state: rich },
        { attestation: attested(attestation({ billable_units: '9e6' })) },
      ),
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.payment).toBe('');
    expect(stateOf(r).Balance).toBe('0');
    expect(await nonceOf(p)).toBe(1);
  });

  it('without an attestation, a later call prepays max_units again: 482 when the balance covers it', async () => {
    // max_units 0: a zero fee, one ticket to bring the balance to one EV.
    const { p, a } = await opened('0');
    expect(balanceOf(a).equals(evOf(p))).toBe(true);
    // No quote now: one unit (go-livepeer DefaultUsageMaxUnits), covered by the balance.
    const again = await pay(body(p, { app: 'fal-flux', state: a.body.state }));
    expect(again.status, JSON.stringify(again.body)).toBe(482);
    expect(errorCode(again)).toBe('NO_TICKETS_NEEDED');
    expect(await nonceOf(p)).toBe(1);
    // A later call's quote only sizes the prepayment (not verified, as upstream): 3 EV's worth.
    const units = evOf(p).mul(Rational.of(9n, 1000n)).ceil().toString();
    const prepay = await pay(
      body(p, { app: 'fal-flux', state: a.body.state }, { quote: JSON.stringify({ max_units: units }) }),
    );
    const fee = Rational.of(BigInt(units)).mul(Rational.of(1000n, 3n));
    const n = Number(fee.sub(evOf(p)).div(evOf(p)).ceil());
    expect(n).toBeGreaterThanOrEqual(2);
    const nonces = paid(prepay).ticketSenderParams.map((t) => t.senderNonce);
    expect(nonces).toEqual(Array.from({ length: n }, (_, i) => i + 2));
  });

  it('takes a usage maxPrice and refuses one in another unit', async () => {
    const p = await params();
    const ok = await pay(
      body(p, { maxPrice: { price: '334', currency: 'wei', unit: 'usage' } }, { quote: quoted() }),
    );
    paid(ok);
    const low = await pay(
      body(p, { maxPrice: { price: '333', currency: 'wei', unit: 'usage' } }, { quote: quoted() }),
    );
    expect(low.status).toBe(481);
    const unit = await pay(
      body(p, { maxPrice: { price: '334', currency: 'wei', unit: 'fixed' } }, { quote: quoted() }),
    );
    expect(unit.status).toBe(400);
    expect(errorMessage(unit)).toContain('maxPrice.unit must be usage for payment type usage');
  });

  it('a usage state is not continued as another type', async () => {
    const { p, a } = await opened();
    const live = await pay(body(p, { type: 'live', app: 'fal-flux', state: a.body.state }));
    expect(live.status).toBe(400);
    expect(errorCode(live)).toBe('STATE_MISMATCH');
    expect(errorMessage(live)).toContain('job type mismatch');
  });

  describe('refusals: 400 with go-livepeer message, nothing signed, no nonce taken', () => {
    const first: { name: string; fields?: Record<string, unknown>; quote?: () => string; message: string }[] =
      [
        { name: 'no quote on the first call', message: 'usage payment requires an orch-signed quote' },
        {
          name: 'a quote signed by another key',
          quote: () => quoted(wireQuote(), OTHER_KEY),
          message: 'invalid quote signature: invalid orchestrator signature',
        },
        {
          name: 'a quote changed after signing',
          quote: () => quoted().replace('"upcharge_bps":500', '"upcharge_bps":0'),
          message: 'invalid quote signature: invalid orchestrator signature',
        },
        {
          name: 'a number literal rewritten after signing',
          quote: () => quoted().replace('"sell_price":0.026250000000000000', '"sell_price":0.02625'),
          message: 'invalid quote signature: invalid orchestrator signature',
        },
        {
          name: 'a quote without orch_sig',
          quote: () => quoted().replace(/,"orch_sig":"0x[0-9a-f]+"/, ''),
          message: 'invalid quote signature: missing signature',
        },
        {
          name: 'another manifest',
          fields: { ManifestID: 'manifest-other' },
          quote: () => quoted(),
          message: 'quote manifest_id mismatch',
        },
        {
          name: 'an expired quote',
          quote: () => quoted(wireQuote({ expires_at: nowSeconds() - 5 })),
          message: 'quote expired',
        },
        {
          name: 'no converted price',
          quote: () => quoted(wireQuote({ wei_price_per_unit: 0 })),
          message: 'quote is missing converted sell price',
        },
        {
          name: 'a price other than the orchestrator price',
          quote: () => quoted(wireQuote({ wei_price_per_unit: 2000, wei_pixels_per_unit: 6 })),
          message: 'quote sell price does not match orchestrator price',
        },
        {
          name: 'a negative max_units',
          quote: () => quoted(wireQuote({ max_units: '-1' })),
          message: 'invalid quote max_units: invalid decimal "-1"',
        },
        {
          name: 'a malformed quote member (Go fails the decode)',
          quote: () => '{"quote_id":7}',
          message: 'quote.quote_id must be a string of at most 256 characters',
        },
      ];
    for (const c of first) {
      it(c.name, async () => {
        const p = await params();
        const a = await pay(body(p, c.fields ?? {}, c.quote ? { quote: c.quote() } : {}));
        expect(a.status, JSON.stringify(a.body)).toBe(400);
        expect(errorCode(a)).toBe('INVALID_REQUEST');
        expect(errorMessage(a)).toBe(c.message);
        expect(a.body.payment).toBeUndefined();
        expect((await nonceOf(p)) ?? 0).toBe(0);
      });
    }

    const later: { name: string; attestation: () => string; message: string }[] = [
      {
        name: 'an attestation for another quote',
        attestation: () => attested(attestation({ quote_id: 'q_other' })),
        message: 'attestation quote_id does not match locked quote',
      },
      // go-livepeer returns an attestation's signature error unwrapped (a quote's is prefixed).
      {
        name: 'an attestation signed by another key',
        attestation: () => attested(attestation(), OTHER_KEY),
        message: 'invalid orchestrator signature',
      },
      {
        name: 'an attestation without orch_sig',
        attestation: () => attested().replace(/,"orch_sig":"0x[0-9a-f]+"/, ''),
        message: 'missing signature',
      },
      {
        name: 'an attestation whose orch_sig is not hex',
        attestation: () => attested().replace(/"orch_sig":"0x[0-9a-f]+"/, '"orch_sig":"0xzz"'),
        message: "encoding/hex: invalid byte: U+007A 'z'",
      },
      {
        name: 'an attestation whose units changed after signing',
        attestation: () => attested().replace('"billable_units":1', '"billable_units":0.5'),
        message: 'invalid orchestrator signature',
      },
      {
        name: 'negative attested units',
        attestation: () => attested(attestation({ billable_units: '-2' })),
        message: 'invalid decimal "-2"',
      },
    ];
    for (const c of later) {
      it(c.name, async () => {
        const { p, a } = await opened();
        const r = await pay(
          body(p, { app: 'fal-flux', state: a.body.state }, { attestation: c.attestation() }),
        );
        expect(r.status, JSON.stringify(r.body)).toBe(400);
        expect(errorCode(r)).toBe('INVALID_REQUEST');
        expect(errorMessage(r)).toBe(c.message);
        expect(await nonceOf(p)).toBe(1);
      });
    }

    it('an attestation on a session that locked no quote (an untyped state continued as usage)', async () => {
      const p = await params();
      const untyped = await pay(
        JSON.stringify({ orchestrator: b64(orchestratorInfo(p)), ManifestID: 'manifest-u', inPixels: 10 }),
      );
      paid(untyped);
      const r = await pay(body(p, { state: untyped.body.state }, { attestation: attested() }));
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(errorMessage(r)).toBe('attestation quote_id does not match locked quote');
    });

    it('attested units that would make a balance the state cannot keep: refused before anything is signed or asked', async () => {
      const { p, a } = await opened('0');
      const hooked = webhook.calls.length;
      // 3·10^7 + 10^-148 units (156 digits): a fee with a denominator of 3·10^145, about ten tickets.
      const units = `3${'0'.repeat(77)}.${'0'.repeat(77)}1e-70`;
      const exact = Rational.of(3n * 10n ** 155n + 1n, 10n ** 148n);
      const fee = exact.mul(Rational.of(1000n, 3n));
      const n = fee.sub(balanceOf(a)).div(evOf(p)).ceil();
      expect(n > 0n && n <= 100n).toBe(true);
      const unkept = ratString(
        balanceOf(a)
          .add(evOf(p).mul(Rational.of(n)))
          .sub(fee),
      );
      expect(unkept.length).toBeGreaterThan(256);

      const r = await settle(p, a.body.state, units);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(errorCode(r)).toBe('INVALID_REQUEST');
      expect(errorMessage(r)).toBe(
        `the new balance (${unkept.length} characters) cannot be kept in the state: balance must be at most 256 characters`,
      );
      expect(r.body.payment).toBeUndefined();
      expect(await nonceOf(p)).toBe(1);
      expect(webhook.calls).toHaveLength(hooked);

      // The session goes on from the state it had.
      const next = await settle(p, a.body.state, '0.1');
      expect(next.status, JSON.stringify(next.body)).toBe(200);
      expect(stateOf(next)).toMatchObject({ SequenceNumber: 1, SenderNonce: 1 });
      expect(balanceOf(next).equals(balanceOf(a).sub(Rational.of(100n, 3n)))).toBe(true);
      // And so does the state that call left.
      paid(await settle(p, next.body.state, '6e6'));
    });
  });

  describe('later calls: the quote only sizes a prepayment, as upstream', () => {
    it('with an attestation, a quote sent beside it is ignored: not verified, its max_units unused', async () => {
      const { p, a } = await opened('0');
      const bogus = quoted(wireQuote({ max_units: '9e6', expires_at: nowSeconds() - 5 }), OTHER_KEY);
      const r = await pay(
        body(
          p,
          { app: 'fal-flux', state: a.body.state },
          { quote: bogus, attestation: attested(attestation({ billable_units: '0.1' })) },
        ),
      );
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.payment).toBe('');
      expect(balanceOf(r).equals(balanceOf(a).sub(Rational.of(100n, 3n)))).toBe(true);
      expect(stateOf(r).QuoteID).toBe('q_0123456789abcdef0123');
      expect(await nonceOf(p)).toBe(1);
    });

    it('without one, an expired quote is not checked again: its max_units is prepaid', async () => {
      const { p, a } = await opened('0');
      // 9 000 000 units at 1000/3 wei: 3 gwei, two more tickets on a balance of one EV.
      const expired = quoted(wireQuote({ max_units: '9e6', expires_at: nowSeconds() - 5 }));
      const r = await pay(body(p, { app: 'fal-flux', state: a.body.state }, { quote: expired }));
      const fee = Rational.of(3_000_000_000n);
      const n = fee.sub(balanceOf(a)).div(evOf(p)).ceil();
      expect(paid(r).ticketSenderParams.map((t) => t.senderNonce)).toEqual(
        Array.from({ length: Number(n) }, (_, i) => i + 2),
      );
      expect(
        balanceOf(r).equals(
          balanceOf(a)
            .add(evOf(p).mul(Rational.of(n)))
            .sub(fee),
        ),
      ).toBe(true);
    });
  });

  describe('attested calls without tickets', () => {
    it('are refused with the status of a webhook that denies them, nothing written', async () => {
      const { p, a } = await opened('0');
      const before = webhook.reply;
      webhook.reply = () => ({ status: 200, body: '{"status":403,"reason":"usage not allowed"}' });
      try {
        const r = await settle(p, a.body.state, '0.1');
        expect(r.status, JSON.stringify(r.body)).toBe(403);
        expect(errorCode(r)).toBe('WEBHOOK_DENIED');
        expect(errorMessage(r)).toBe('usage not allowed');
        expect(r.body.state).toBeUndefined();
        expect(webhook.calls.at(-1)?.body.state).toMatchObject({ SequenceNumber: 1, SenderNonce: 1 });
      } finally {
        webhook.reply = before;
      }
      expect(await nonceOf(p)).toBe(1);
      expect((await settle(p, a.body.state, '0.1')).status).toBe(200);
    });

    it('charge no spend cap: a client capped at two tickets still gets its second after them', async () => {
      const { p, a } = await opened('0', signer, CAPPED_TOKEN);
      let state = a.body.state;
      // Zero attested units: a zero fee, the balance (one EV) stays enough for every call.
      for (let i = 0; i < 3; i++) {
        const r = await settle(p, state, '0', signer, CAPPED_TOKEN);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(r.body.payment).toBe('');
        state = r.body.state;
      }
      // 6 000 000 units: 2 gwei, one more ticket on a balance of one EV; the cap's second.
      const second = await settle(p, state, '6e6', signer, CAPPED_TOKEN);
      expect(paid(second).ticketSenderParams).toHaveLength(1);
      // Then two more: past the cap.
      const third = await settle(p, second.body.state, '6e6', signer, CAPPED_TOKEN);
      expect(third.status, JSON.stringify(third.body)).toBe(483);
      expect(errorCode(third)).toBe('SPEND_CAP_REACHED');
    });

    describe('count against the per-account tickets-per-second cap', () => {
      const LIMIT = 4;
      let limited: RunningSender;

      beforeAll(async () => {
        limited = await bootSender({
          ...senderEnv(chain, files, testRedis('remote-signer-usage-limited'), {
            SENDER_MAX_TICKETS_PER_SECOND_PER_SENDER: String(LIMIT),
            SENDER_MAX_BATCH_SIZE: String(LIMIT),
          }),
          SENDER_API_TOKENS_FILE: writeTokensFile(files.dir, 'usage-limited-tokens.yaml', [
            { name: 'usage', token: TOKEN, senders: [chain.funded.address] },
          ]),
          SENDER_REMOTE_SIGNER: 'true',
          SENDER_REMOTE_SIGNER_STATE_SECRET: STATE_SECRET,
        });
      });
      afterAll(async () => {
        await limited?.close();
      });

      it('one ticket each: a flood of them is refused 429, the state unchanged', async () => {
        const { p, a } = await opened('0', limited);
        // The start of a fresh one-second window, so that the flood shares one.
        await new Promise((r) => setTimeout(r, 1_000 - (Date.now() % 1_000) + 20));
        const answers = await Promise.all(
          Array.from({ length: 3 * LIMIT }, () => settle(p, a.body.state, '0.1', limited)),
        );
        const ok = answers.filter((r) => r.status === 200);
        const refused = answers.filter((r) => r.status !== 200);
        expect(refused.length, JSON.stringify(answers.map((r) => r.status))).toBeGreaterThan(0);
        // A flood straddling two windows may take two windows' worth.
        expect(ok.length).toBeLessThanOrEqual(2 * LIMIT);
        for (const r of refused) {
          expect(r.status).toBe(429);
          expect(errorCode(r)).toBe('RATE_LIMITED');
        }
        expect(await issuedNonce(limited.app, funded, p.params.recipientRandHash)).toBe(1);
      });
    });
  });
});
