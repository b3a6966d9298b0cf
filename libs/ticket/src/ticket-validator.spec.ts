import { describe, expect, it } from 'vitest';
import {
  InMemoryNonceLedger,
  MAX_SENDER_NONCES,
  MAX_WIN_PROB,
  Rational,
  SignatureFault,
  TicketErrorCode,
  availableBackends,
  bytesToHex,
  hexToBytes,
  inThreadVerifier,
  nobleBackend,
  receiveTicketBatch,
  ticketHash,
  validateTicket,
  validateWinningTicket,
  type TicketBatch,
  type TicketHashFields,
  type ValidTickets,
} from '#app/ticket';
import { EXAMPLE, RECIPIENT, exampleTicket, randomKey, validBatch } from '../test/fixtures.js';

const exampleSig = hexToBytes(EXAMPLE.sig, 'sig', 65);

function code(fn: () => unknown) {
  try {
    fn();
  } catch (error) {
    return (error as { code: string }).code;
  }
  return undefined;
}

describe('validateTicket (§6)', () => {
  const ticket = exampleTicket();
  const rand = EXAMPLE.recipientRand;

  it('accepts the §2.3 ticket and reports that it loses', () => {
    expect(() => validateTicket(RECIPIENT, ticket, exampleSig, rand)).not.toThrow();
    expect(validateWinningTicket(RECIPIENT, ticket, exampleSig, rand)).toBe(false);
    expect(validateWinningTicket(RECIPIENT, ticket, exampleSig, rand, nobleBackend)).toBe(false);
  });

  it.each([
    ['another recipient', { recipient: new Uint8Array(20).fill(9) }, rand, TicketErrorCode.INVALID_RECIPIENT],
    ['a zero sender', { sender: new Uint8Array(20) }, rand, TicketErrorCode.INVALID_SENDER],
    ['a recipientRand that does not match the hash', {}, rand + 1n, TicketErrorCode.INVALID_RECIPIENT_RAND],
    ['a signature over other fields', { senderNonce: 2 }, rand, TicketErrorCode.INVALID_SIGNATURE],
  ] as const)('refuses %s', (_name, overrides, recipientRand, expected) => {
    const t: TicketHashFields = { ...ticket, ...overrides };
    expect(code(() => validateTicket(RECIPIENT, t, exampleSig, recipientRand))).toBe(expected);
  });

  it('checks in go-livepeer order and keeps the signature fault as the cause', () => {
    expect(
      code(() =>
        validateTicket(RECIPIENT, { ...ticket, sender: new Uint8Array(20) }, new Uint8Array(3), rand + 1n),
      ),
    ).toBe(TicketErrorCode.INVALID_SENDER);
    try {
      validateTicket(RECIPIENT, ticket, exampleSig.subarray(0, 64), rand);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({
        code: TicketErrorCode.INVALID_SIGNATURE,
        fatal: false,
        cause: SignatureFault.LENGTH,
      });
    }
  });
});

describe('receiveTicketBatch (§5.4)', () => {
  for (const backend of availableBackends()) {
    it(`accepts a valid batch (${backend.name} backend) and records its nonces`, async () => {
      const { batch, ctx } = validBatch({ nonces: [5, 1, 3] });
      const ledger = new InMemoryNonceLedger();
      const received = await receiveTicketBatch(batch, ctx, { ledger, verify: inThreadVerifier(backend) });
      expect(received.map((r) => [r.senderNonce, r.error])).toEqual([
        [5, undefined],
        [1, undefined],
        [3, undefined],
      ]);
      const first = received[0];
      const expectedHash = ticketHash({
        ...batch.params,
        ...batch.expirationParams,
        sender: batch.sender,
        senderNonce: 5,
      });
      expect(bytesToHex(first.ticketHash)).toBe(bytesToHex(expectedHash));
      expect(ledger.size).toBe(1);
    });
  }

  it('returns winners with everything needed to redeem them', async () => {
    const { batch, ctx, recipientRand } = validBatch({
      faceValue: 1000n,
      winProb: MAX_WIN_PROB - 1n,
      nonces: [1],
    });
    const [ticket] = await receiveTicketBatch(batch, ctx, { ledger: new InMemoryNonceLedger() });
    expect(ticket.won).toBe(true);
    expect(ticket.signedTicket).toMatchObject({
      recipient: RECIPIENT,
      sender: batch.sender,
      senderNonce: 1,
      paramsExpirationBlock: batch.params.expirationBlock,
      creationRound: 10n,
      sig: batch.senderParams[0].sig,
      recipientRand,
    });
  });

  it.each([
    [
      'the sender is unlocking',
      (b: TicketBatch) => b,
      { senderInfo: { withdrawRound: 11n } },
      TicketErrorCode.SENDER_UNLOCKING,
    ],
    [
      'params for another recipient',
      (b: TicketBatch) => b,
      { recipient: new Uint8Array(20).fill(3) },
      TicketErrorCode.INVALID_RECIPIENT,
    ],
    [
      'a zero sender',
      (b: TicketBatch) => ({ ...b, sender: new Uint8Array(20) }),
      {},
      TicketErrorCode.INVALID_SENDER,
    ],
    [
      'a different price than the params were issued for',
      (b: TicketBatch) => ({ ...b, pricePerPixel: Rational.of(4n, 7n) }),
      {},
      TicketErrorCode.INVALID_RECIPIENT_RAND,
    ],
    [
      'tampered expiration params',
      (b: TicketBatch) => ({ ...b, expirationParams: { ...b.expirationParams, creationRound: 11n } }),
      {},
      TicketErrorCode.INVALID_RECIPIENT_RAND,
    ],
    [
      'a secret O no longer has (restart)',
      (b: TicketBatch) => b,
      { secret: new Uint8Array(32).fill(2) },
      TicketErrorCode.INVALID_RECIPIENT_RAND,
    ],
  ] as const)('throws a fatal error for %s', async (_name, mutate, ctxOverrides, expected) => {
    const { batch, ctx } = validBatch();
    const ledger = new InMemoryNonceLedger();
    const promise = receiveTicketBatch(mutate(batch), { ...ctx, ...ctxOverrides }, { ledger });
    await expect(promise).rejects.toMatchObject({ code: expected, fatal: true });
    expect(ledger.size).toBe(0);
  });

  it('does not credit a ticket with a bad signature, and does not record its nonce', async () => {
    const { batch, ctx } = validBatch({ nonces: [1, 2] });
    const forged = {
      ...batch,
      senderParams: [{ senderNonce: 1, sig: batch.senderParams[1].sig }, batch.senderParams[1]],
    };
    const ledger = new InMemoryNonceLedger();
    const received = await receiveTicketBatch(forged, ctx, { ledger });
    expect(received[0]).toMatchObject({
      won: false,
      error: { code: TicketErrorCode.INVALID_SIGNATURE, fatal: false },
    });
    expect(received[0].error?.cause).toBe(SignatureFault.WRONG_SIGNER);
    expect(received[1].error).toBeUndefined();
    // Nonce 1 was not burnt by the forgery: the genuine ticket 1 is still accepted.
    const again = await receiveTicketBatch({ ...batch, senderParams: [batch.senderParams[0]] }, ctx, {
      ledger,
    });
    expect(again[0].error).toBeUndefined();
  });

  it('refuses a replayed nonce, within a batch and across batches', async () => {
    const { batch, ctx } = validBatch({ nonces: [7, 7] });
    const ledger = new InMemoryNonceLedger();
    const received = await receiveTicketBatch(batch, ctx, { ledger });
    expect(received[0].error).toBeUndefined();
    expect(received[1].error).toMatchObject({ code: TicketErrorCode.NONCE_ALREADY_SEEN, fatal: false });
    expect(received[1].error?.message).toBe(
      'invalid ticket senderNonce: already seen sender=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 nonce=7',
    );
    const replay = await receiveTicketBatch(batch, ctx, { ledger });
    expect(replay.map((r) => r.error?.code)).toEqual([
      TicketErrorCode.NONCE_ALREADY_SEEN,
      TicketErrorCode.NONCE_ALREADY_SEEN,
    ]);
  });

  it(`accepts any ${MAX_SENDER_NONCES} distinct nonces per params and refuses more`, async () => {
    const key = randomKey();
    const nonces = Array.from({ length: MAX_SENDER_NONCES + 1 }, (_, i) => (i * 7919) % 1_000_003);
    const { batch, ctx } = validBatch({ nonces, key });
    const received = await receiveTicketBatch(batch, ctx, { ledger: new InMemoryNonceLedger() });
    expect(received.slice(0, MAX_SENDER_NONCES).every((r) => r.error === undefined)).toBe(true);
    expect(received[MAX_SENDER_NONCES].error).toMatchObject({
      code: TicketErrorCode.TOO_MANY_NONCES,
      fatal: false,
    });
    expect(received[MAX_SENDER_NONCES].error?.message).toMatch(
      /^invalid ticket senderNonce: too many values sender=0x/,
    );
  });

  it('refuses tickets on expired params but still records their nonces and reports winners', async () => {
    const { batch, ctx } = validBatch({
      expirationBlock: 100n,
      faceValue: 1000n,
      winProb: MAX_WIN_PROB - 1n,
      nonces: [1],
    });
    const ledger = new InMemoryNonceLedger();
    const [ticket] = await receiveTicketBatch(batch, ctx, { ledger });
    expect(ticket).toMatchObject({
      won: true,
      error: { code: TicketErrorCode.PARAMS_EXPIRED, message: 'TicketParams expired' },
    });
    expect(ticket.signedTicket).toBeDefined();
    const [replay] = await receiveTicketBatch(batch, ctx, { ledger });
    expect(replay.error?.code).toBe(TicketErrorCode.NONCE_ALREADY_SEEN);
  });

  it('with expiredParams refuse, refuses a batch on expired params whole, recording nothing', async () => {
    const { batch, ctx } = validBatch({
      expirationBlock: 100n,
      faceValue: 1000n,
      winProb: MAX_WIN_PROB - 1n,
      nonces: [1, 2],
    });
    const ledger = new InMemoryNonceLedger();
    let asked = false;
    const refusing = {
      ledger,
      expiredParams: 'refuse' as const,
      beforeRecording: () => {
        asked = true;
      },
    };
    await expect(receiveTicketBatch(batch, ctx, refusing)).rejects.toMatchObject({
      code: TicketErrorCode.PARAMS_EXPIRED,
    });
    expect(asked).toBe(false);
    // Nothing recorded: the same nonces are new on params that are not expired.
    const fresh = await receiveTicketBatch(batch, { ...ctx, lastSeenL1Block: 0n }, refusing);
    expect(fresh.map((t) => t.error)).toEqual([undefined, undefined]);
  });

  it('passes a batch without tickets without checking anything, as go-livepeer does', async () => {
    const { batch, ctx } = validBatch();
    const empty = { ...batch, senderParams: [] };
    await expect(
      receiveTicketBatch(
        empty,
        { ...ctx, recipient: new Uint8Array(20) },
        { ledger: new InMemoryNonceLedger() },
      ),
    ).resolves.toEqual([]);
  });

  it('runs beforeRecording after the signatures and before any nonce is recorded', async () => {
    const { batch, ctx } = validBatch({ nonces: [1, 2] });
    const ledger = new InMemoryNonceLedger();
    const withoutSender = { ...ctx, senderInfo: undefined };
    const seen: number[] = [];
    const refusal = new Error('refused by the caller');
    const refused = receiveTicketBatch(batch, withoutSender, {
      ledger,
      beforeRecording: () => {
        seen.push(ledger.size);
        throw refusal;
      },
    });
    await expect(refused).rejects.toBe(refusal);
    expect(seen).toEqual([0]);
    expect(ledger.size).toBe(0);
    // Accepted, the same batch then records its nonces once.
    const received = await receiveTicketBatch(batch, withoutSender, {
      ledger,
      beforeRecording: () => Promise.resolve(void seen.push(ledger.size)),
    });
    expect(received.map((r) => r.error)).toEqual([undefined, undefined]);
    expect(seen).toEqual([0, 0]);
    expect(ledger.size).toBe(1);
  });

  it('tells beforeRecording which tickets are valid (their nonces) and which of them won', async () => {
    const told: ValidTickets[] = [];
    const losers = validBatch({ nonces: [1, 2, 3] });
    const senderParams = [...losers.batch.senderParams];
    senderParams[1] = { ...senderParams[1], sig: new Uint8Array(65) };
    await receiveTicketBatch({ ...losers.batch, senderParams }, losers.ctx, {
      ledger: new InMemoryNonceLedger(),
      beforeRecording: (valid) => void told.push(valid),
    });
    const winners = validBatch({ faceValue: 1000n, winProb: MAX_WIN_PROB - 1n, nonces: [1, 2] });
    const received = await receiveTicketBatch(winners.batch, winners.ctx, {
      ledger: new InMemoryNonceLedger(),
      beforeRecording: (valid) => void told.push(valid),
    });
    expect(told.map(({ count, winning, nonces }) => ({ count, winning, nonces }))).toEqual([
      { count: 2, winning: 0, nonces: [1, 3] },
      { count: 2, winning: 2, nonces: [1, 2] },
    ]);
    expect(told[0].winners).toEqual([]);
    // The winners as signed tickets, before their nonces are recorded: the ones the batch returns.
    expect(told[1].winners).toEqual(received.map((t) => t.signedTicket));
  });

  it('skips beforeRecording when every signature failed, and fails shared checks before it', async () => {
    const { batch, ctx } = validBatch({ nonces: [1] });
    let calls = 0;
    const beforeRecording = () => {
      calls++;
    };
    const forged = { ...batch, senderParams: [{ senderNonce: 2, sig: batch.senderParams[0].sig }] };
    const [ticket] = await receiveTicketBatch(forged, ctx, {
      ledger: new InMemoryNonceLedger(),
      beforeRecording,
    });
    expect(ticket.error?.code).toBe(TicketErrorCode.INVALID_SIGNATURE);
    await expect(
      receiveTicketBatch(
        batch,
        { ...ctx, recipient: new Uint8Array(20).fill(3) },
        { ledger: new InMemoryNonceLedger(), beforeRecording },
      ),
    ).rejects.toMatchObject({ code: TicketErrorCode.INVALID_RECIPIENT });
    expect(calls).toBe(0);
  });

  it('needs the sender state unless beforeRecording validates the sender', async () => {
    const { batch, ctx } = validBatch();
    const withoutSender = { ...ctx, senderInfo: undefined };
    await expect(
      receiveTicketBatch(batch, withoutSender, { ledger: new InMemoryNonceLedger() }),
    ).rejects.toMatchObject({ code: TicketErrorCode.INVALID_INPUT });
  });

  it('detects a NonceLedger that answers for the wrong number of nonces', async () => {
    const { batch, ctx } = validBatch();
    const ledger = new InMemoryNonceLedger();
    ledger.record = () => [];
    await expect(receiveTicketBatch(batch, ctx, { ledger })).rejects.toThrow(
      'NonceLedger returned 0 outcomes for 3 nonces',
    );
  });
});
