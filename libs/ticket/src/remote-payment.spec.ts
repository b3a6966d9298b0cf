import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  balanceAfter,
  billableUnits,
  bytesToBigInt,
  BYOC_CAPABILITY,
  BYOC_JOB_DOMAIN_V1,
  byocPrice,
  bytesToHex,
  decodeRemoteState,
  MAX_AUTH_ID_CHARS,
  EMPTY_SEGMENT_HASH,
  encodeRemoteState,
  encodeTicket,
  exceededCeiling,
  flattenByocJob,
  hexToBytes,
  keccak256,
  legacyByocJobPayload,
  legacyByocPayloadFault,
  MAX_BYOC_TIMEOUT_SECONDS,
  MAX_IN_PIXELS,
  orchestratorInfoPayload,
  byocCapabilityName,
  parseMaxPrice,
  parseDecimal,
  parseRatString,
  parseRemotePaymentType,
  Rational,
  readDecimal,
  SECP256K1_N,
  stateBalanceText,
  uint256Bytes,
  ratString,
  remoteFee,
  segmentFlatten,
  TicketError,
  TicketErrorCode,
  ticketsNeeded,
  attestationSigningBytes,
  ceilUnits,
  decodeOrchSig,
  goJsonString,
  lockUsageQuote,
  nobleBackend,
  parseUsageUnits,
  personalDigest,
  personalSigner,
  quoteSigningBytes,
  usageFee,
  usageUnits,
  verifyUsageAttestation,
  USAGE_MAX_PRICE_UNIT,
  type ByocJobSigningInput,
  type PriceInfo,
  type RemotePaymentState,
  type UsageAttestation,
  type UsageQuote,
  type UsageQuoteContext,
} from '#app/ticket';

const invalid: unknown = expect.objectContaining({ code: TicketErrorCode.INVALID_INPUT });

/** The message `f` throws (an exact check, where toThrow(text) matches any message containing it). */
function thrown(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  return 'nothing thrown';
}

describe('remote signer arithmetic (go-livepeer GenerateLivePayment)', () => {
  it('bills live in whole seconds, rounding up, and prepays 10 s on the first call', () => {
    expect(billableUnits('live', 0n, 0n)).toBe(10n);
    expect(billableUnits('live', -5n, 0n)).toBe(10n);
    expect(billableUnits('live', 1n, 0n)).toBe(1n);
    expect(billableUnits('live', 1000n, 0n)).toBe(1n);
    expect(billableUnits('live', 1001n, 0n)).toBe(2n);
  });

  it('bills lv2v as 1280×720 at 30 fps and prepays 60 s (1 658 880 000 pixels)', () => {
    expect(billableUnits('lv2v', 0n, 0n)).toBe(1_658_880_000n);
    expect(billableUnits('lv2v', 1000n, 0n)).toBe(27_648_000n);
    expect(billableUnits('lv2v', 1n, 0n)).toBe(27_648n);
  });

  it('bills fixed as one unit and an untyped call as its inPixels', () => {
    expect(billableUnits('fixed', 123_456n, 99n)).toBe(1n);
    expect(billableUnits('', 5_000n, 1000n)).toBe(1000n);
    expect(() => billableUnits('', 0n, 0n)).toThrow(invalid);
    expect(() => billableUnits('', 0n, -1n)).toThrow(invalid);
    expect(() => billableUnits('', 0n, 2n ** 53n)).toThrow(invalid);
  });

  it('refuses unknown job types; takes go-livepeer usage', () => {
    expect(parseRemotePaymentType(undefined)).toBe('');
    expect(parseRemotePaymentType('lv2v')).toBe('lv2v');
    expect(parseRemotePaymentType('usage')).toBe('usage');
    for (const t of ['bogus', 'USAGE', 'LIVE', 7]) expect(() => parseRemotePaymentType(t)).toThrow(invalid);
  });

  // TestGenerateLivePayment_LV2V_Succeeds: price 150/175 wei per pixel, 1000 pixels → 6000/7.
  it('computes the fee at the initial price, exactly', () => {
    expect(remoteFee(1000n, { pricePerUnit: 150n, pixelsPerUnit: 175n }).toString()).toBe('6000/7');
    expect(() => remoteFee(1n, { pricePerUnit: 0n, pixelsPerUnit: 1n })).toThrow(invalid);
  });

  it('stages tickets like Balance.StageUpdate: max(fee, ev) as the floor, rounded up', () => {
    const ev = Rational.of(35n);
    expect(ticketsNeeded(Rational.ZERO, Rational.of(6000n, 7n), ev)).toBe(25n); // 857.14 / 35
    expect(ticketsNeeded(Rational.ZERO, Rational.of(1n), ev)).toBe(1n); // EV is the floor
    expect(ticketsNeeded(Rational.of(1000n), Rational.of(1n), ev)).toBe(0n); // → HTTP 482
    expect(ticketsNeeded(Rational.of(10n), Rational.of(70n), ev)).toBe(2n);
    expect(ticketsNeeded(Rational.of(-35n), Rational.of(70n), ev)).toBe(3n);
  });

  it('keeps the balance at or above zero after a paid call and below max(fee, ev) + ev', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }),
        fc.bigInt({ min: 1n, max: 10n ** 15n }),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.bigInt({ min: 1n, max: 1000n }),
        (b, f, e, d) => {
          const balance = Rational.of(b, d);
          const fee = Rational.of(f, 7n);
          const ev = Rational.of(e, 3n);
          const n = ticketsNeeded(balance, fee, ev);
          if (n === 0n) return;
          const after = balanceAfter(balance, n, ev, fee);
          expect(after.sign()).toBeGreaterThanOrEqual(0);
          const floor = fee.cmp(ev) < 0 ? ev : fee;
          expect(balance.add(ev.mul(Rational.of(n))).cmp(floor.add(ev))).toBeLessThan(0);
        },
      ),
    );
  });

  it("writes and reads balances as Go's RatString", () => {
    expect(ratString(Rational.of(6000n, 7n))).toBe('6000/7');
    expect(ratString(Rational.of(14n, 7n))).toBe('2');
    expect(ratString(Rational.of(-3n, 6n))).toBe('-1/2');
    expect(parseRatString('6000/7').equals(Rational.of(6000n, 7n))).toBe(true);
    expect(parseRatString('-5').equals(Rational.of(-5n))).toBe(true);
    for (const bad of ['', '1/0', '1.5', '0x10', '1/-2', ' 1', '1'.repeat(201)]) {
      expect(() => parseRatString(bad)).toThrow(invalid);
    }
  });

  it('picks the lowest ceiling and reports it only when exceeded', () => {
    const ceilings = [
      { source: 'configured', price: Rational.of(500n) },
      { source: 'request maxPrice', price: Rational.of(200n) },
      { source: 'initial session price', price: undefined },
    ];
    expect(exceededCeiling(Rational.of(200n), ceilings)).toBeUndefined();
    expect(exceededCeiling(Rational.of(201n), ceilings)?.source).toBe('request maxPrice');
    expect(exceededCeiling(Rational.of(10n ** 30n), [])).toBeUndefined();
  });

  it('parses maxPrice with the unit of the job type, in wei only', () => {
    expect(parseMaxPrice(undefined, 'live')).toBeUndefined();
    expect(parseMaxPrice({ price: '1.5', currency: 'WEI', unit: 'Seconds' }, 'live')?.toString()).toBe('3/2');
    expect(parseMaxPrice({ price: 7, currency: 'wei', unit: '720p-pixel-seconds' }, 'lv2v')?.toString()).toBe(
      '7/1',
    );
    const bad: [unknown, '' | 'live' | 'fixed'][] = [
      [{ price: '0', currency: 'wei', unit: 'fixed' }, 'fixed'],
      [{ price: '-1', currency: 'wei', unit: 'fixed' }, 'fixed'],
      [{ price: '1e999', currency: 'wei', unit: 'fixed' }, 'fixed'],
      [{ price: '0e5', currency: 'wei', unit: 'fixed' }, 'fixed'],
      [{ price: '1/3', currency: 'wei', unit: 'fixed' }, 'fixed'],
      [{ price: '1', currency: 'usd', unit: 'fixed' }, 'fixed'],
      [{ price: '1', currency: 'wei', unit: 'seconds' }, 'fixed'],
      [{ price: '1', currency: 'wei', unit: 'seconds' }, ''],
      ['1', 'live'],
    ];
    for (const [raw, type] of bad) expect(() => parseMaxPrice(raw, type)).toThrow(invalid);
  });

  // Go decodes maxPrice.price as a json.Number and parses it with big.Rat.SetString, which takes
  // exponents; Python's json.dumps writes small floats that way (1e-07), JS's String(1e-7) too.
  it('reads maxPrice.price with exponents, exactly, as big.Rat.SetString does', () => {
    const price = (p: unknown) =>
      parseMaxPrice({ price: p, currency: 'wei', unit: 'fixed' }, 'fixed')?.toString();
    expect(price('1e3')).toBe('1000/1');
    expect(price('2.5E-3')).toBe('1/400');
    expect(price(JSON.parse('1e-07'))).toBe('1/10000000');
    expect(price(JSON.parse('1.5e+21'))).toBe('1500000000000000000000/1');
    expect(price(JSON.parse('10.12'))).toBe('253/25');
  });

  it('names the BYOC capability by ManifestID, else the request capability, else a BYOC price_info', () => {
    const byoc: PriceInfo = { pricePerUnit: 1n, pixelsPerUnit: 1n, capability: 37, constraint: 'from-price' };
    expect(byocCapabilityName('m', 'c', byoc)).toBe('m');
    expect(byocCapabilityName('', 'c', byoc)).toBe('c');
    expect(byocCapabilityName('', '', byoc)).toBe('from-price');
    expect(byocCapabilityName('', '', { ...byoc, capability: 35 })).toBe('');
    expect(byocCapabilityName('', '', undefined)).toBe('');
  });

  it('flattens segment credentials as go-livepeer does (manifestId ‖ u256(seq) ‖ hash)', () => {
    expect(bytesToHex(EMPTY_SEGMENT_HASH)).toBe(
      '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470',
    );
    const flat = segmentFlatten('abc', 0n, EMPTY_SEGMENT_HASH);
    expect(flat.length).toBe(3 + 32 + 32);
    expect(Buffer.from(flat.subarray(0, 3)).toString()).toBe('abc');
    expect(flat.subarray(3, 35).every((b) => b === 0)).toBe(true);
    expect(bytesToHex(flat.subarray(35))).toBe(bytesToHex(EMPTY_SEGMENT_HASH));
  });

  it('signs the orchestrator-info request over the EIP-55 address string', () => {
    const address = hexToBytes('0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359', 'a', 20);
    expect(Buffer.from(orchestratorInfoPayload(address)).toString()).toBe(
      '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
    );
    expect(keccak256(orchestratorInfoPayload(address)).length).toBe(32);
  });
});

describe('remote signer state blob', () => {
  const state: RemotePaymentState = {
    stateId: 'abc123',
    pmSessionId: '0x' + '11'.repeat(32),
    lastUpdateMs: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
    orchestrator: hexToBytes('0x' + 'ab'.repeat(20), 'o', 20),
    app: 'my-app',
    authExpiry: 1_800_000_000,
    senderNonce: 42,
    balance: Rational.of(6000n, 7n),
    initialPrice: { pricePerUnit: 150n, pixelsPerUnit: 175n },
    type: 'lv2v',
    sequenceNumber: 3,
    authId: 'user-1',
    quoteId: '',
    sellUnit: '',
    upchargeBps: 0,
    sender: hexToBytes('0x' + 'cd'.repeat(20), 's', 20),
    client: 'gateway',
  };

  it("uses go-livepeer's field names and order (usage's three included), then ticketpay's Sender and Client", () => {
    const json = new TextDecoder().decode(encodeRemoteState(state));
    expect(Object.keys(JSON.parse(json) as object)).toEqual([
      'StateID',
      'PMSessionID',
      'LastUpdate',
      'OrchestratorAddress',
      'App',
      'AuthExpiry',
      'SenderNonce',
      'Balance',
      'InitialPricePerUnit',
      'InitialPixelsPerUnit',
      'Type',
      'SequenceNumber',
      'AuthID',
      'QuoteID',
      'SellUnit',
      'UpchargeBps',
      'Sender',
      'Client',
    ]);
    expect(json).toContain('"AuthID":"user-1","QuoteID":"","SellUnit":"","UpchargeBps":0,"Sender"');
    expect(json).toContain('"Balance":"6000/7"');
    expect(json).toContain('"LastUpdate":"2026-01-02T03:04:05.678Z"');
  });

  // What a webhook sees must match go-livepeer's json.Marshal of RemotePaymentState.
  it('writes OrchestratorAddress as go-ethereum does (lowercase) and LastUpdate as Go time JSON', () => {
    const text = (s: RemotePaymentState) => new TextDecoder().decode(encodeRemoteState(s));
    expect(text(state)).toContain(`"OrchestratorAddress":"0x${'ab'.repeat(20)}"`);
    const at = (ms: number) => text({ ...state, lastUpdateMs: Date.UTC(2026, 0, 2, 3, 4, 5, ms) });
    expect(at(600)).toContain('"LastUpdate":"2026-01-02T03:04:05.6Z"');
    expect(at(0)).toContain('"LastUpdate":"2026-01-02T03:04:05Z"');
    expect(text({ ...state, lastUpdateMs: undefined })).toContain('"LastUpdate":"0001-01-01T00:00:00Z"');
  });

  it('still reads states sealed before the usage fields were written: empty quote, no upcharge', () => {
    const old = JSON.parse(new TextDecoder().decode(encodeRemoteState(state))) as Record<string, unknown>;
    delete old.QuoteID;
    delete old.SellUnit;
    delete old.UpchargeBps;
    expect(decodeRemoteState(new TextEncoder().encode(JSON.stringify(old)))).toEqual(state);
  });

  it('still reads states sealed before: EIP-55 OrchestratorAddress, three-digit fractions', () => {
    const old = JSON.parse(new TextDecoder().decode(encodeRemoteState(state))) as Record<string, unknown>;
    old.OrchestratorAddress = '0xABaBAbabaBABaBAbabaBaBABAbABAbabABaBABAb';
    old.LastUpdate = '2026-01-02T03:04:05.600Z';
    const decoded = decodeRemoteState(new TextEncoder().encode(JSON.stringify(old)));
    expect(decoded.orchestrator).toEqual(state.orchestrator);
    expect(decoded.lastUpdateMs).toBe(Date.UTC(2026, 0, 2, 3, 4, 5, 600));
  });

  it('round-trips, including a state before its first charged call and a usage state', () => {
    expect(decodeRemoteState(encodeRemoteState(state))).toEqual(state);
    const usage = { ...state, type: 'usage' as const, quoteId: 'q_1', sellUnit: 'image', upchargeBps: -25 };
    expect(decodeRemoteState(encodeRemoteState(usage))).toEqual(usage);
    const fresh = { ...state, lastUpdateMs: undefined, pmSessionId: '', balance: Rational.ZERO };
    expect(decodeRemoteState(encodeRemoteState(fresh))).toEqual(fresh);
  });

  it('round-trips a caller identity as long as a session may keep, whatever its characters, and no longer', () => {
    for (const authId of [
      'j'.repeat(MAX_AUTH_ID_CHARS),
      '\u0001'.repeat(MAX_AUTH_ID_CHARS),
      '€'.repeat(MAX_AUTH_ID_CHARS),
    ]) {
      const long = { ...state, authId };
      expect(decodeRemoteState(encodeRemoteState(long))).toEqual(long);
    }
    const tooLong = { ...state, authId: 'j'.repeat(MAX_AUTH_ID_CHARS + 1) };
    expect(() => encodeRemoteState(tooLong)).toThrow(/at most 8192 characters/);
  });

  it('refuses anything that is not such a state', () => {
    const bytes = (s: string) => new TextEncoder().encode(s);
    const good = JSON.parse(new TextDecoder().decode(encodeRemoteState(state))) as Record<string, unknown>;
    const bad = [
      bytes('not-json'),
      bytes('[]'),
      bytes('null'),
      bytes(JSON.stringify({ ...good, SenderNonce: -1 })),
      bytes(JSON.stringify({ ...good, SenderNonce: 2 ** 32 })),
      bytes(JSON.stringify({ ...good, Balance: '1/0' })),
      bytes(JSON.stringify({ ...good, Type: 'bogus' })),
      bytes(JSON.stringify({ ...good, QuoteID: 5 })),
      bytes(JSON.stringify({ ...good, QuoteID: 'q'.repeat(257) })),
      bytes(JSON.stringify({ ...good, UpchargeBps: 1.5 })),
      bytes(JSON.stringify({ ...good, UpchargeBps: '5' })),
      bytes(JSON.stringify({ ...good, LastUpdate: 'yesterday' })),
      bytes(JSON.stringify({ ...good, InitialPricePerUnit: 1.5 })),
      bytes(JSON.stringify({ ...good, Sender: undefined })),
      new Uint8Array(5000),
    ];
    for (const b of bad) expect(() => decodeRemoteState(b)).toThrow(invalid);
    expect(() =>
      encodeRemoteState({ ...state, initialPrice: { pricePerUnit: 2n ** 53n, pixelsPerUnit: 1n } }),
    ).toThrow(invalid);
  });

  it('refuses to write a balance it would not read back (one rule: parseRatString)', () => {
    // 1e15 wei less 1e-150 units at 1000 wei: (10^165 − 1) / 10^147, 311 characters.
    const fee = usageFee(parseUsageUnits('1e-150'), { pricePerUnit: 1000n, pixelsPerUnit: 1n });
    const balance = Rational.of(10n ** 15n).sub(fee);
    expect(ratString(balance)).toHaveLength(311);
    const message =
      'the new balance (311 characters) cannot be kept in the state: balance must be at most 256 characters';
    expect(thrown(() => stateBalanceText(balance))).toBe(message);
    expect(thrown(() => encodeRemoteState({ ...state, balance }))).toBe(message);
    expect(() => encodeRemoteState({ ...state, balance })).toThrow(invalid);
    // 201 digits on a side: within 256 characters, past the digits bound.
    expect(thrown(() => stateBalanceText(Rational.of(10n ** 200n)))).toBe(
      'the new balance (201 characters) cannot be kept in the state: ' +
        'balance must be an integer or a fraction a/b of at most 200 digits each',
    );
    // At the bound: 256 characters, 200 digits a side; one more character is refused.
    const widest = Rational.of(-(10n ** 200n - 1n), 10n ** 53n);
    expect(stateBalanceText(widest)).toHaveLength(256);
    expect(thrown(() => stateBalanceText(widest.div(Rational.of(10n))))).toBe(
      'the new balance (257 characters) cannot be kept in the state: balance must be at most 256 characters',
    );

    // Whatever the balance: written exactly when it reads back, and then read back equal.
    const good = JSON.parse(new TextDecoder().decode(encodeRemoteState(state))) as Record<string, unknown>;
    const reads = (text: string) =>
      decodeRemoteState(new TextEncoder().encode(JSON.stringify({ ...good, Balance: text }))).balance;
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 210n), max: 10n ** 210n }),
        fc.bigInt({ min: 1n, max: 10n ** 210n }),
        (num, den) => {
          const b = Rational.of(num, den);
          const written = thrown(() => stateBalanceText(b)) === 'nothing thrown';
          expect(thrown(() => reads(ratString(b))) === 'nothing thrown').toBe(written);
          if (written) expect(reads(stateBalanceText(b)).equals(b)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('decimals (readDecimal: maxPrice and usage units, one reading)', () => {
  const go = { signed: false, jsonNumber: false };
  const json = { signed: true, jsonNumber: true };

  it('reads digits, fraction and exponent exactly, within 78 digits a run and ±200', () => {
    expect(readDecimal('12.50e-1', json)).toEqual(Rational.of(5n, 4n));
    expect(readDecimal('-2.5', json)).toEqual(Rational.of(-5n, 2n));
    expect(readDecimal('1E200', go)).toEqual(Rational.of(10n ** 200n));
    expect(readDecimal('1e-200', go)).toEqual(Rational.of(1n, 10n ** 200n));
    expect(readDecimal('1e201', go)).toBe('exponent');
    expect(readDecimal('1e-201', json)).toBe('exponent');
    expect(readDecimal('1e1000', go)).toBe('syntax');
    expect(readDecimal('9'.repeat(78), go)).toEqual(Rational.of(10n ** 78n - 1n));
    expect(readDecimal('9'.repeat(79), go)).toBe('syntax');
    expect(readDecimal(`0.${'1'.repeat(79)}`, go)).toBe('syntax');
  });

  it('takes a sign only when asked, and only JSON literals when asked', () => {
    expect(readDecimal('-1', go)).toBe('syntax');
    expect(readDecimal('007', go)).toEqual(Rational.of(7n));
    expect(readDecimal('007', json)).toBe('syntax');
    for (const bad of ['', '.5', '1.', '+1', '1/3', '0x10', ' 1', 'NaN']) {
      expect(readDecimal(bad, go), bad).toBe('syntax');
      expect(readDecimal(bad, json), bad).toBe('syntax');
    }
  });

  it("words each caller's refusals as before", () => {
    expect(parseDecimal(' 1e-07 ', 'maxPrice.price')).toEqual(Rational.of(1n, 10n ** 7n));
    expect(parseDecimal(2.5, 'maxPrice.price')).toEqual(Rational.of(5n, 2n));
    for (const bad of ['0', '-1', '1e201', 'x', undefined, Number.NaN]) {
      expect(thrown(() => parseDecimal(bad, 'maxPrice.price'))).toBe(
        'maxPrice.price must be a positive decimal',
      );
    }
    expect(thrown(() => parseUsageUnits(' '))).toBe('missing decimal');
    expect(thrown(() => parseUsageUnits('-1'))).toBe('invalid decimal "-1"');
    expect(thrown(() => parseUsageUnits('01'))).toBe('invalid decimal "01"');
    expect(thrown(() => parseUsageUnits('1e201'))).toBe('invalid decimal "1e201": exponent beyond ±200');
    expect(parseUsageUnits('-0')).toEqual(Rational.ZERO);
  });
});

describe('BYOC job V1 flattening (go-livepeer FlattenBYOCJob)', () => {
  const job = (over: Partial<ByocJobSigningInput> = {}): ByocJobSigningInput => ({
    id: 'x',
    capability: 'c',
    request: 'r',
    parameters: 'p',
    timeoutSeconds: 1,
    ...over,
  });

  it('writes the domain separator, each field length-prefixed, then the timeout (hand-built bytes)', () => {
    // "LP_BYOC_JOB_V1" = 4c505f42594f435f4a4f425f5631, then 0000; each field 00000001 + 1 byte.
    const want =
      '4c505f42594f435f4a4f425f5631' +
      '0000' +
      '00000001' +
      '78' + // id "x"
      '00000001' +
      '63' + // capability "c"
      '00000001' +
      '72' + // request "r"
      '00000001' +
      '70' + // parameters "p"
      '00000001'; // timeout_seconds 1
    expect(Buffer.from(flattenByocJob(job())).toString('hex')).toBe(want);
    expect(BYOC_JOB_DOMAIN_V1).toHaveLength(16);
  });

  it('matches upstream test facts: deterministic, longer than 16+4+4*5 bytes, differs by id', () => {
    const upstream = job({
      id: 'id1',
      capability: 'text-reversal',
      request: '{"text":"hi"}',
      parameters: '{"options_filter":{}}',
      timeoutSeconds: 30,
    });
    expect(flattenByocJob(upstream)).toEqual(flattenByocJob({ ...upstream }));
    expect(flattenByocJob(upstream).length).toBeGreaterThan(16 + 4 + 4 * 5);
    expect(flattenByocJob(job())).not.toEqual(flattenByocJob(job({ id: 'y' })));
  });

  it('keeps field boundaries: moving a byte between neighbouring fields changes the bytes', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (a, b, c) => {
        fc.pre(b.length > 0);
        const left = flattenByocJob(job({ request: a + b, parameters: c }));
        const right = flattenByocJob(job({ request: a, parameters: b + c }));
        expect(left).not.toEqual(right);
      }),
    );
  });

  it('encodes text as UTF-8 with byte lengths, and the timeout big-endian', () => {
    const flat = flattenByocJob(job({ id: 'é', timeoutSeconds: 0x01020304 }));
    expect(Buffer.from(flat.subarray(16, 22)).toString('hex')).toBe('00000002c3a9');
    expect(Buffer.from(flat.subarray(flat.length - 4)).toString('hex')).toBe('01020304');
  });

  it('refuses a timeout that is not a positive 32-bit integer', () => {
    for (const t of [0, -1, 1.5, MAX_BYOC_TIMEOUT_SECONDS + 1, Number.NaN]) {
      expect(() => flattenByocJob(job({ timeoutSeconds: t }))).toThrow(TicketError);
    }
    expect(flattenByocJob(job({ timeoutSeconds: MAX_BYOC_TIMEOUT_SECONDS })).length).toBe(16 + 5 * 4 + 4);
  });
});

describe('BYOC remote payments (go-livepeer type "byoc")', () => {
  const byocEntry = (over: Partial<PriceInfo> = {}): PriceInfo => ({
    pricePerUnit: 7n,
    pixelsPerUnit: 1000n,
    capability: BYOC_CAPABILITY,
    constraint: 'text-reversal',
    ...over,
  });

  it('prepays the job timeout on the first call, at least 60 s, in units of the price scale', () => {
    expect(billableUnits('byoc', 0n, 0n, { pixelsPerUnit: 1000n, timeoutSeconds: 0n })).toBe(60_000n);
    expect(billableUnits('byoc', 0n, 0n, { pixelsPerUnit: 1000n, timeoutSeconds: 30n })).toBe(60_000n);
    expect(billableUnits('byoc', 0n, 0n, { pixelsPerUnit: 1000n, timeoutSeconds: 120n })).toBe(120_000n);
  });

  it('bills whole started seconds after that', () => {
    expect(billableUnits('byoc', 1n, 0n, { pixelsPerUnit: 1n, timeoutSeconds: 300n })).toBe(1n);
    expect(billableUnits('byoc', 1500n, 0n, { pixelsPerUnit: 1000n, timeoutSeconds: 0n })).toBe(2000n);
    expect(billableUnits('byoc', 2000n, 0n, { pixelsPerUnit: 3n, timeoutSeconds: 0n })).toBe(6n);
  });

  it('charges pricePerUnit wei per second exactly, whatever the scale', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.bigInt({ min: 1n, max: 10n ** 9n }),
        fc.bigInt({ min: 1n, max: 10n ** 7n }),
        (price, scale, ms) => {
          const units = billableUnits('byoc', ms, 0n, { pixelsPerUnit: scale, timeoutSeconds: 0n });
          const fee = remoteFee(units, { pricePerUnit: price, pixelsPerUnit: scale });
          expect(fee.equals(Rational.of(price * ((ms + 999n) / 1000n)))).toBe(true);
        },
      ),
    );
  });

  it('needs the capability price to bill', () => {
    expect(() => billableUnits('byoc', 0n, 0n)).toThrow(invalid);
    expect(parseRemotePaymentType('byoc')).toBe('byoc');
    expect(() => parseMaxPrice({ price: 1, currency: 'wei', unit: 'seconds' }, 'byoc')).toThrow(invalid);
  });

  it('prices by the BYOC entry named by the capability, skipping zero and other entries', () => {
    const wanted = byocEntry({ pricePerUnit: 9n });
    const list = [
      byocEntry({ pricePerUnit: 0n }),
      byocEntry({ constraint: 'other' }),
      byocEntry({ capability: 35 }),
      wanted,
      byocEntry({ pricePerUnit: 11n }),
    ];
    expect(byocPrice(undefined, list, 'text-reversal')).toBe(wanted);
    const base = byocEntry({ pricePerUnit: 5n });
    expect(byocPrice(base, list, 'text-reversal')).toBe(base);
    expect(() => byocPrice({ ...base, capability: 0 }, [], 'text-reversal')).toThrow(invalid);
    expect(() => byocPrice(base, list, '')).toThrow(/missing manifestID/);
    expect(() => byocPrice(undefined, list, 'nano-banana')).toThrow(/capability "nano-banana"/);
  });
});

describe('BYOC request payments (the Python SDK\'s type "byoc-request")', () => {
  it('bills inPixels as given (seconds to prefund), positive and at most 2^53 − 1, on every call', () => {
    expect(parseRemotePaymentType('byoc-request')).toBe('byoc-request');
    expect(billableUnits('byoc-request', 0n, 75n)).toBe(75n);
    expect(billableUnits('byoc-request', 5_000n, 75n)).toBe(75n);
    expect(billableUnits('byoc-request', 0n, MAX_IN_PIXELS)).toBe(MAX_IN_PIXELS);
    for (const bad of [0n, -1n, MAX_IN_PIXELS + 1n]) {
      expect(() => billableUnits('byoc-request', 0n, bad)).toThrow(invalid);
    }
    expect(() => billableUnits('byoc-request', 0n, 0n)).toThrow(/byoc-request requires positive inPixels/);
  });

  it('costs inPixels × pricePerUnit / pixelsPerUnit exactly: what a BYOC orchestrator debits for that many seconds', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.bigInt({ min: 1n, max: 10n ** 9n }),
        fc.bigInt({ min: 1n, max: 10n ** 6n }),
        (price, scale, seconds) => {
          const units = billableUnits('byoc-request', 0n, seconds);
          const fee = remoteFee(units, { pricePerUnit: price, pixelsPerUnit: scale });
          expect(fee.equals(Rational.of(price * seconds, scale))).toBe(true);
        },
      ),
    );
  });

  it('takes no maxPrice (no unit is defined for it)', () => {
    expect(() => parseMaxPrice({ price: 1, currency: 'wei', unit: 'seconds' }, 'byoc-request')).toThrow(
      invalid,
    );
  });
});

describe('legacy BYOC job payload (go-livepeer gatewayJob.sign)', () => {
  const account = hexToBytes('0x' + '5a'.repeat(20), 'a', 20);

  it('is the UTF-8 bytes of request + parameters, with nothing between them', () => {
    expect(Buffer.from(legacyByocJobPayload('{"a":"é"}', '{}')).toString('hex')).toBe(
      Buffer.from('{"a":"é"}{}', 'utf8').toString('hex'),
    );
    expect(legacyByocJobPayload('ab', 'c')).toEqual(legacyByocJobPayload('a', 'bc'));
    expect(legacyByocJobPayload('', '')).toEqual(new Uint8Array(0));
    // A lone surrogate becomes U+FFFD, as Go's JSON decoder makes it.
    expect(Buffer.from(legacyByocJobPayload('\ud800', '')).toString('hex')).toBe('efbfbd');
  });

  it('may sign ordinary job text', () => {
    expect(legacyByocPayloadFault(legacyByocJobPayload('{"prompt":"hi"}', ''), account)).toBeUndefined();
    expect(legacyByocPayloadFault(new Uint8Array(0), account)).toBeUndefined();
    expect(legacyByocPayloadFault(legacyByocJobPayload('{"StateID":"x"}', ''), account)).toBeUndefined();
  });

  it("refuses a payload that could be one of the account's tickets", () => {
    const packed = encodeTicket({
      recipient: hexToBytes('0x' + '21'.repeat(20), 'r', 20),
      sender: account,
      faceValue: 10n ** 15n,
      winProb: 2n ** 200n,
      senderNonce: 7,
      recipientRandHash: new Uint8Array(32).fill(0x33),
      creationRound: 4000n,
      creationRoundBlockHash: new Uint8Array(32).fill(0x44),
    });
    expect(legacyByocPayloadFault(packed, account)).toMatch(/address bytes/);
    const other = hexToBytes('0x' + '5b'.repeat(20), 'o', 20);
    expect(legacyByocPayloadFault(packed, other)).toBeUndefined();
  });

  it('refuses a payload that decodes as a remote-signer state', () => {
    const state: RemotePaymentState = {
      stateId: 'forged',
      pmSessionId: '',
      lastUpdateMs: undefined,
      orchestrator: hexToBytes('0x' + 'ab'.repeat(20), 'o', 20),
      app: '',
      authExpiry: 4_000_000_000,
      senderNonce: 0,
      balance: Rational.ZERO,
      initialPrice: { pricePerUnit: 1n, pixelsPerUnit: 1n },
      type: 'byoc-request',
      sequenceNumber: 0,
      authId: '',
      quoteId: '',
      sellUnit: '',
      upchargeBps: 0,
      sender: hexToBytes('0x' + 'cd'.repeat(20), 's', 20),
      client: '',
    };
    const json = new TextDecoder().decode(encodeRemoteState(state));
    expect(decodeRemoteState(legacyByocJobPayload(json, '')).type).toBe('byoc-request');
    expect(legacyByocPayloadFault(legacyByocJobPayload(json.slice(0, 40), json.slice(40)), account)).toMatch(
      /remote-signer state/,
    );
  });
});

describe('usage payments (go-livepeer lockUsageQuote, verifyUsageAttestation, the usage units)', () => {
  // A test key: the orchestrator that quotes and attests (O's address is OrchestratorInfo.address).
  const orchKey = new Uint8Array(32).fill(0x11);
  const orch = nobleBackend.addressOf(orchKey);
  const otherKey = new Uint8Array(32).fill(0x22);
  const recover = (hash: Uint8Array, sig: Uint8Array) => personalSigner(hash, sig, nobleBackend);
  /** go-livepeer's orchestrator: personal-sign of keccak256(signing bytes), as `0x` hex. */
  const sign = (bytes: Uint8Array, key = orchKey) =>
    bytesToHex(nobleBackend.sign(personalDigest(keccak256(bytes)), key));

  const NOW_MS = Date.UTC(2026, 0, 2, 3, 4, 5);
  // go-livepeer TestQuoteSigningBytesOmitSig's quote.
  const unsigned: UsageQuote = {
    quoteId: 'q_1',
    app: 'app',
    manifestId: 'mid',
    sellPrice: '0.02625',
    sellUnit: 'image',
    upchargeBps: 500n,
    weiPricePerUnit: 10n,
    weiPixelsPerUnit: 1n,
    upstream: undefined,
    maxUnits: '1',
    expiresAt: BigInt(NOW_MS / 1000 + 60),
    orchSig: '',
  };
  const signed = (q: UsageQuote, key = orchKey): UsageQuote => ({
    ...q,
    orchSig: sign(quoteSigningBytes(q), key),
  });
  const quote = signed(unsigned);
  const ctx: UsageQuoteContext = {
    orchestrator: orch,
    manifestId: 'mid',
    price: { pricePerUnit: 10n, pixelsPerUnit: 1n },
    nowMs: NOW_MS,
    recover,
  };
  const text = (b: Uint8Array) => new TextDecoder().decode(b);

  it("writes a quote's signing bytes as Go's json.Marshal of the quote without orch_sig", () => {
    expect(text(quoteSigningBytes({ ...quote, expiresAt: 1n }))).toBe(
      '{"quote_id":"q_1","app":"app","manifest_id":"mid","sell_price":0.02625,"sell_unit":"image",' +
        '"upcharge_bps":500,"wei_price_per_unit":10,"wei_pixels_per_unit":1,"max_units":1,"expires_at":1}',
    );
    // json.Number literals are kept as written; an empty one is written 0.
    const q = { ...quote, sellPrice: '2.50E+1', maxUnits: '', expiresAt: 0n, upchargeBps: -3n };
    expect(text(quoteSigningBytes(q))).toContain('"sell_price":2.50E+1,');
    expect(text(quoteSigningBytes(q))).toContain('"upcharge_bps":-3,');
    expect(text(quoteSigningBytes(q))).toContain('"max_units":0,"expires_at":0}');
  });

  it('puts upstream between wei_pixels_per_unit and max_units, its empty members left out (unconfirmed layout)', () => {
    const upstream = {
      provider: 'fal',
      endpointId: 'fal-ai/flux/dev',
      unit: 'image',
      unitPrice: '0.025',
      currency: 'USD',
      fetchedAt: '',
    };
    expect(text(quoteSigningBytes({ ...quote, upstream }))).toContain(
      '"wei_pixels_per_unit":1,"upstream":{"provider":"fal","endpoint_id":"fal-ai/flux/dev","unit":"image",' +
        '"unit_price":0.025,"currency":"USD"},"max_units":1,',
    );
  });

  it("escapes strings as Go's encoding/json: HTML characters, controls, U+2028, lone surrogates", () => {
    expect(goJsonString('a<b>&"\\\n\r\t\b\f\u0001\u007f\u2028\u2029é€😀')).toBe(
      '"a\\u003cb\\u003e\\u0026\\"\\\\\\n\\r\\t\\b\\f\\u0001\u007f\\u2028\\u2029é€😀"',
    );
    expect(goJsonString('x\ud800y\udc00')).toBe('"x\ufffdy\ufffd"');
    expect(text(quoteSigningBytes({ ...quote, quoteId: '<q>' }))).toContain('"quote_id":"\\u003cq\\u003e"');
  });

  it("writes an attestation's signing bytes as Go does, without orch_sig", () => {
    const a: UsageAttestation = {
      quoteId: 'q_1',
      billableUnits: '2.5',
      sellPrice: '0.02625',
      costWei: '25',
      orchSig: '0xdead',
    };
    expect(text(attestationSigningBytes(a))).toBe(
      '{"quote_id":"q_1","billable_units":2.5,"sell_price":0.02625,"cost_wei":"25"}',
    );
  });

  it('locks a quote signed by the orchestrator: its price, id, sell unit and upcharge', () => {
    expect(lockUsageQuote(quote, ctx)).toEqual({
      initialPrice: { pricePerUnit: 10n, pixelsPerUnit: 1n },
      quoteId: 'q_1',
      sellUnit: 'image',
      upchargeBps: 500,
    });
    // orch_sig: whitespace trimmed, 0x or 0X or no prefix; no ManifestID in the request is fine.
    const bare = quote.orchSig.slice(2);
    for (const orchSig of [` 0X${bare}\n`, bare.toUpperCase()]) {
      expect(lockUsageQuote({ ...quote, orchSig }, { ...ctx, manifestId: '' }).quoteId).toBe('q_1');
    }
  });

  it('refuses a quote whose signed field changed, or signed by another key', () => {
    const tampered: Partial<UsageQuote>[] = [
      { quoteId: 'q_2' },
      { app: 'other' },
      { sellPrice: '0.026250' },
      { sellUnit: 'second' },
      { upchargeBps: 501n },
      { maxUnits: '2' },
      { expiresAt: quote.expiresAt + 1n },
      { upstream: { provider: 'fal', endpointId: '', unit: '', unitPrice: '', currency: '', fetchedAt: '' } },
    ];
    for (const t of tampered) {
      expect(() => lockUsageQuote({ ...quote, ...t }, ctx)).toThrow(
        'invalid quote signature: invalid orchestrator signature',
      );
    }
    expect(() => lockUsageQuote(signed(unsigned, otherKey), ctx)).toThrow(
      'invalid quote signature: invalid orchestrator signature',
    );
    // v flipped alone: another key recovers.
    const flippedV = decodeOrchSig(quote.orchSig);
    flippedV[64] = flippedV[64] === 27 ? 28 : 27;
    expect(thrown(() => lockUsageQuote({ ...quote, orchSig: bytesToHex(flippedV) }, ctx))).toBe(
      'invalid quote signature: invalid orchestrator signature',
    );
    expect(thrown(() => lockUsageQuote({ ...quote, orchSig: '0xdead' }, ctx))).toBe(
      'invalid quote signature: invalid orchestrator signature',
    );
  });

  it("refuses the high-s twin of O's signature, which recovers O too (VerifySig takes low s only)", () => {
    const sig = decodeOrchSig(quote.orchSig);
    const s = bytesToBigInt(sig.subarray(32, 64));
    const highS = Uint8Array.of(
      ...sig.subarray(0, 32),
      ...uint256Bytes(SECP256K1_N - s),
      sig[64] === 27 ? 28 : 27,
    );
    const digest = personalDigest(keccak256(quoteSigningBytes(quote)));
    expect(nobleBackend.recoverAddress(digest, highS)).toEqual(orch);
    expect(thrown(() => lockUsageQuote({ ...quote, orchSig: bytesToHex(highS) }, ctx))).toBe(
      'invalid quote signature: invalid orchestrator signature',
    );
    const a = attest();
    const twin = decodeOrchSig(a.orchSig);
    const attested = Uint8Array.of(
      ...twin.subarray(0, 32),
      ...uint256Bytes(SECP256K1_N - bytesToBigInt(twin.subarray(32, 64))),
      twin[64] === 27 ? 28 : 27,
    );
    expect(
      nobleBackend.recoverAddress(personalDigest(keccak256(attestationSigningBytes(a))), attested),
    ).toEqual(orch);
    expect(
      thrown(() => verifyUsageAttestation('q_1', { ...a, orchSig: bytesToHex(attested) }, orch, recover)),
    ).toBe('invalid orchestrator signature');
  });

  it("refuses with go-livepeer's messages, in its order", () => {
    const refused: [UsageQuote | undefined, Partial<UsageQuoteContext>, string][] = [
      [undefined, {}, 'usage payment requires an orch-signed quote'],
      [{ ...quote, orchSig: '' }, {}, 'invalid quote signature: missing signature'],
      [{ ...quote, orchSig: ' 0x ' }, {}, 'invalid quote signature: missing signature'],
      [{ ...quote, orchSig: '0xabc' }, {}, 'invalid quote signature: encoding/hex: odd length hex string'],
      [{ ...quote, orchSig: '0xzz' }, {}, "invalid quote signature: encoding/hex: invalid byte: U+007A 'z'"],
      [quote, { manifestId: 'other' }, 'quote manifest_id mismatch'],
      [quote, { nowMs: NOW_MS + 61_000 }, 'quote expired'],
      [signed({ ...unsigned, weiPricePerUnit: 0n }), {}, 'quote is missing converted sell price'],
      [signed({ ...unsigned, weiPixelsPerUnit: -1n }), {}, 'quote is missing converted sell price'],
      [quote, { price: { pricePerUnit: 20n, pixelsPerUnit: 2n } }, 'quote sell price does not match'],
      [quote, { price: { pricePerUnit: 11n, pixelsPerUnit: 1n } }, 'quote sell price does not match'],
      // The state keeps upcharge_bps as a JSON number (ticketpay bound).
      [signed({ ...unsigned, upchargeBps: 2n ** 53n }), {}, 'upcharge_bps must be within'],
    ];
    for (const [q, over, message] of refused) {
      expect(() => lockUsageQuote(q, { ...ctx, ...over }), message).toThrow(message);
      expect(() => lockUsageQuote(q, { ...ctx, ...over })).toThrow(invalid);
    }
    // expires_at is inclusive (now > expires_at refuses); 0 never expires.
    expect(() => lockUsageQuote(quote, { ...ctx, nowMs: NOW_MS + 60_999 })).not.toThrow();
    const forever = signed({ ...unsigned, expiresAt: 0n });
    expect(() => lockUsageQuote(forever, { ...ctx, nowMs: NOW_MS * 10 })).not.toThrow();
  });

  const attest = (over: Partial<UsageAttestation> = {}, key = orchKey): UsageAttestation => {
    const a = {
      quoteId: 'q_1',
      billableUnits: '2.5',
      sellPrice: '0.02625',
      costWei: '25',
      orchSig: '',
      ...over,
    };
    return { ...a, orchSig: sign(attestationSigningBytes(a), key) };
  };

  it('checks an attestation against the locked quote and the orchestrator', () => {
    expect(() => verifyUsageAttestation('q_1', attest(), orch, recover)).not.toThrow();
    expect(() => verifyUsageAttestation('q_2', attest(), orch, recover)).toThrow(
      'attestation quote_id does not match locked quote',
    );
    expect(() => verifyUsageAttestation('', attest({ quoteId: '' }), orch, recover)).toThrow(
      'attestation quote_id does not match locked quote',
    );
    // go-livepeer returns verifyOrchSigned's error unwrapped (no prefix, unlike a quote's).
    const refusals: [Partial<UsageAttestation>, string][] = [
      [{ orchSig: attest({}, otherKey).orchSig }, 'invalid orchestrator signature'],
      [{ billableUnits: '25' }, 'invalid orchestrator signature'],
      [{ sellPrice: '1' }, 'invalid orchestrator signature'],
      [{ costWei: '26' }, 'invalid orchestrator signature'],
      [{ orchSig: ' 0x ' }, 'missing signature'],
      [{ orchSig: '' }, 'missing signature'],
      [{ orchSig: '0xabc' }, 'encoding/hex: odd length hex string'],
      [{ orchSig: '0xzz' }, "encoding/hex: invalid byte: U+007A 'z'"],
    ];
    for (const [t, message] of refusals) {
      const a = { ...attest(), ...t };
      expect(thrown(() => verifyUsageAttestation('q_1', a, orch, recover))).toBe(message);
      expect(thrown(() => usageUnits(a, undefined, 'q_1', orch, recover))).toBe(message);
      expect(() => verifyUsageAttestation('q_1', a, orch, recover)).toThrow(invalid);
    }
  });

  it('charges attested units exactly, fractions included, at the initial price', () => {
    const u = usageUnits(attest({ billableUnits: '2.5' }), undefined, 'q_1', orch, recover);
    expect(u).toEqual({ units: Rational.of(5n, 2n), billable: 3n, attested: true });
    expect(usageFee(u.units, { pricePerUnit: 7n, pixelsPerUnit: 3n }).toString()).toBe('35/6');
    const tiny = usageUnits(attest({ billableUnits: '1e-3' }), undefined, 'q_1', orch, recover);
    expect(usageFee(tiny.units, { pricePerUnit: 1000n, pixelsPerUnit: 1n }).toString()).toBe('1/1');
    // Zero attested units are taken (ParsePositiveRat refuses only negatives): a zero fee.
    const zero = usageUnits(attest({ billableUnits: '0' }), undefined, 'q_1', orch, recover);
    expect(zero.units.sign()).toBe(0);
    expect(zero.billable).toBe(0n);
    expect(() => usageUnits(attest({ billableUnits: '-1' }), undefined, 'q_1', orch, recover)).toThrow(
      'invalid decimal "-1"',
    );
    expect(() => usageUnits(attest({ billableUnits: '' }), undefined, 'q_1', orch, recover)).toThrow(
      'missing decimal',
    );
    // The attestation is checked before its units are read.
    expect(() => usageUnits(attest({ billableUnits: '-1' }), undefined, 'q_9', orch, recover)).toThrow(
      'attestation quote_id does not match',
    );
  });

  it("prepays the quote's max_units without an attestation (one unit by default), billed rounded up, at least 1", () => {
    const none = usageUnits(undefined, undefined, 'q_1', orch, recover);
    expect(none).toEqual({ units: Rational.of(1n), billable: 1n, attested: false });
    expect(usageUnits(undefined, { ...quote, maxUnits: '' }, '', orch, recover).units).toEqual(
      Rational.of(1n),
    );
    const frac = usageUnits(undefined, { ...quote, maxUnits: '2.1' }, 'q_1', orch, recover);
    expect(frac.billable).toBe(3n);
    // The fee is from the exact units, as go-livepeer's calculateFeeRat(usageUnits, …).
    expect(usageFee(frac.units, { pricePerUnit: 10n, pixelsPerUnit: 1n }).toString()).toBe('21/1');
    const zero = usageUnits(undefined, { ...quote, maxUnits: '0' }, 'q_1', orch, recover);
    expect(zero.billable).toBe(1n);
    expect(zero.units.sign()).toBe(0);
    expect(usageUnits(undefined, { ...quote, maxUnits: '1E3' }, 'q_1', orch, recover).billable).toBe(1000n);
    // A later call's quote is not verified: it only sizes the prepayment.
    expect(usageUnits(undefined, { ...quote, orchSig: '' }, 'q_1', orch, recover).attested).toBe(false);
    for (const bad of ['-2', '1e999']) {
      expect(() => usageUnits(undefined, { ...quote, maxUnits: bad }, 'q_1', orch, recover)).toThrow(
        'invalid quote max_units: invalid decimal',
      );
    }
  });

  it("rounds units up as CeilRatToInt64 (0 when not positive or past int64) and reads Go's number syntax only", () => {
    expect(ceilUnits(Rational.of(1n, 3n))).toBe(1n);
    expect(ceilUnits(Rational.of(6n, 3n))).toBe(2n);
    expect(ceilUnits(Rational.ZERO)).toBe(0n);
    expect(ceilUnits(Rational.of(2n ** 63n))).toBe(0n);
    expect(ceilUnits(Rational.of(2n ** 63n - 1n))).toBe(2n ** 63n - 1n);
    expect(parseUsageUnits('12.50e-1').toString()).toBe('5/4');
    expect(parseUsageUnits('-0').sign()).toBe(0);
    for (const bad of ['1/3', '0x10', '.5', '1.', '+1', 'NaN'])
      expect(() => parseUsageUnits(bad)).toThrow(invalid);
  });

  it('reads a usage maxPrice in its own unit', () => {
    expect(USAGE_MAX_PRICE_UNIT).toBe('usage');
    expect(parseMaxPrice({ price: '12', currency: 'wei', unit: ' Usage ' }, 'usage')?.toString()).toBe(
      '12/1',
    );
    expect(() => parseMaxPrice({ price: '12', currency: 'wei', unit: 'fixed' }, 'usage')).toThrow(
      'maxPrice.unit must be usage for payment type usage',
    );
    expect(() => parseMaxPrice({ price: '12', currency: 'wei', unit: 'fixed' }, '')).toThrow(
      'maxPrice requires payment type live, lv2v, fixed, or usage',
    );
  });
});
