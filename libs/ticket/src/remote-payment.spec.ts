import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  balanceAfter,
  billableUnits,
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
  parseRatString,
  parseRemotePaymentType,
  Rational,
  ratString,
  remoteFee,
  segmentFlatten,
  TicketError,
  TicketErrorCode,
  ticketsNeeded,
  type ByocJobSigningInput,
  type PriceInfo,
  type RemotePaymentState,
} from '#app/ticket';

const invalid: unknown = expect.objectContaining({ code: TicketErrorCode.INVALID_INPUT });

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

  it('refuses unknown job types, including go-livepeer usage', () => {
    expect(parseRemotePaymentType(undefined)).toBe('');
    expect(parseRemotePaymentType('lv2v')).toBe('lv2v');
    for (const t of ['bogus', 'usage', 'LIVE', 7]) expect(() => parseRemotePaymentType(t)).toThrow(invalid);
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
    sender: hexToBytes('0x' + 'cd'.repeat(20), 's', 20),
    client: 'gateway',
  };

  it("uses go-livepeer's field names and order, then ticketpay's Sender and Client", () => {
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
      'Sender',
      'Client',
    ]);
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

  it('still reads states sealed before: EIP-55 OrchestratorAddress, three-digit fractions', () => {
    const old = JSON.parse(new TextDecoder().decode(encodeRemoteState(state))) as Record<string, unknown>;
    old.OrchestratorAddress = '0xABaBAbabaBABaBAbabaBaBABAbABAbabABaBABAb';
    old.LastUpdate = '2026-01-02T03:04:05.600Z';
    const decoded = decodeRemoteState(new TextEncoder().encode(JSON.stringify(old)));
    expect(decoded.orchestrator).toEqual(state.orchestrator);
    expect(decoded.lastUpdateMs).toBe(Date.UTC(2026, 0, 2, 3, 4, 5, 600));
  });

  it('round-trips, including a state before its first charged call', () => {
    expect(decodeRemoteState(encodeRemoteState(state))).toEqual(state);
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
      bytes(JSON.stringify({ ...good, Type: 'usage' })),
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
