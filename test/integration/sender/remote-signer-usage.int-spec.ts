import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePaymentHeader, segDataCodec } from '#app/proto';
import {
  bytesToHex,
  hexToBytes,
  parseRatString,
  Rational,
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
  newOrchestrator,
  RECIPIENT_KEY,
  senderEnv,
  startSenderChain,
  testRedis,
  writeSenderFiles,
  writeTokensFile,
  type Orchestrator,
  type RunningSender,
  type SenderChain,
  type SenderFiles,
} from './sender-fixture.js';

const TOKEN = 'usage-token-0123456789abcdef';
/** O's converted sell price: 1000/3 wei per unit (under the contact's 1000), so fees have fractions. */
const PRICE: PriceInfo = { pricePerUnit: 1000n, pixelsPerUnit: 3n, capability: 0, constraint: '' };
/** The orchestrator's key: the recipient's (OrchestratorInfo.address), which signs quotes. */
const ORCH_KEY = hexToBytes(RECIPIENT_KEY, 'key', 32);
/** Another key, whose signatures the signer must refuse. */
const OTHER_KEY = new Uint8Array(32).fill(0x42);

type Params = { params: TicketParams; price: PriceInfo };

describe("Sender as a go-livepeer remote signer: the 'usage' payment type", () => {
  let chain: SenderChain;
  let files: SenderFiles;
  let signer: RunningSender;
  let orch: Orchestrator;
  let webhook: FakeWebhook;
  let funded: string;

  beforeAll(async () => {
    chain = await startSenderChain();
    files = await writeSenderFiles(chain);
    funded = chain.funded.address.toLowerCase();
    webhook = await startWebhook();
    const tokensFile = writeTokensFile(files.dir, 'usage-tokens.yaml', [
      { name: 'usage', token: TOKEN, senders: [chain.funded.address] },
    ]);
    signer = await bootSender({
      ...senderEnv(chain, files, testRedis('remote-signer-usage')),
      SENDER_API_TOKENS_FILE: tokensFile,
      SENDER_REMOTE_SIGNER: 'true',
      SENDER_REMOTE_SIGNER_STATE_SECRET: STATE_SECRET,
      SENDER_REMOTE_SIGNER_WEBHOOK_URL: webhook.url,
    });
    orch = newOrchestrator(chain.recipient);
  });
  afterAll(async () => {
    await signer?.close();
    await webhook?.close();
    await chain?.stop();
    files?.cleanup();
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
  const pay = (text: string) =>
    postJson(`${signer.httpUrl}/generate-live-payment`, text, { Authorization: `Bearer ${TOKEN}` });
  const quoted = (q: WireQuote = wireQuote(), key = ORCH_KEY) => signedQuote(q, key);
  const attested = (a: WireAttestation = attestation(), key = ORCH_KEY) => signedAttestation(a, key);

  function paid(a: HttpAnswer) {
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    return decodePaymentHeader(a.body.payment as string);
  }
  const balanceOf = (a: HttpAnswer) => parseRatString(stateOf(a).Balance as string);

  /** A session opened with a signed quote prepaying `maxUnits`. */
  async function opened(maxUnits = '1') {
    const p = await params();
    const a = await pay(body(p, { app: 'fal-flux' }, { quote: quoted(wireQuote({ max_units: maxUnits })) }));
    paid(a);
    return { p, a };
  }

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
          message: 'quote.quote_id must be a string',
        },
      ];
    for (const c of first) {
      it(c.name, async () => {
        const p = await params();
        const a = await pay(body(p, c.fields ?? {}, c.quote ? { quote: c.quote() } : {}));
        expect(a.status, JSON.stringify(a.body)).toBe(400);
        expect(errorCode(a)).toBe('INVALID_REQUEST');
        expect(errorMessage(a)).toContain(c.message);
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
      {
        name: 'an attestation signed by another key',
        attestation: () => attested(attestation(), OTHER_KEY),
        message: 'invalid orchestrator signature',
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
        expect(errorMessage(r)).toContain(c.message);
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
      expect(errorMessage(r)).toContain('attestation quote_id does not match locked quote');
    });
  });
});
