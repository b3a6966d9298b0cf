import { Metadata } from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { grpcHealthCheck } from '#app/testing';
import {
  bootSender,
  freshParams,
  GATEWAY_TOKEN,
  newOrchestrator,
  OTHER_TOKEN,
  senderEnv,
  startSenderChain,
  startSessionRequest,
  writeSenderFiles,
  type RunningSender,
  type SenderChain,
  type SenderFiles,
} from '../sender/sender-fixture.js';
import { checkOutcome, expectSameSnapshot, OK, redisSnapshot, Tally } from './fuzz-kit.js';
import { decode, encode, RawGrpc } from './raw-grpc.js';
import { runAll } from './run-all.js';

const SVC = '/ticketpay.sender.v1.Sender';
const SEED = 0x5e4d;
type Msg = Record<string, unknown>;

const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b));
const int64 = fc.bigInt(-(1n << 63n), (1n << 63n) - 1n).map(String);

function auth(token: string): Metadata {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

const startMutation: fc.Arbitrary<(r: Msg) => Msg> = fc.oneof(
  bytes(64).map((b) => (r: Msg) => ({ ...r, sender: b })),
  fc
    .constantFrom('recipient', 'faceValue', 'winProb', 'recipientRandHash', 'seed', 'expirationBlock')
    .chain((f) =>
      bytes(70).map((b) => (r: Msg) => ({ ...r, ticketParams: { ...(r.ticketParams as Msg), [f]: b } })),
    ),
  fc.record({ creationRound: int64, creationRoundBlockHash: bytes(40) }).map((e) => (r: Msg) => ({
    ...r,
    ticketParams: { ...(r.ticketParams as Msg), expirationParams: e },
  })),
  fc
    .record({ pricePerUnit: int64, pixelsPerUnit: int64, capability: fc.nat(), constraint: fc.string() })
    .map((p) => (r: Msg) => ({ ...r, expectedPrice: p })),
  fc.constant((r: Msg) => ({ ...r, ticketParams: undefined })),
  fc.constant((r: Msg) => ({ ...r, expectedPrice: undefined })),
);

describe('fuzz: Sender gRPC', () => {
  let chain: SenderChain;
  let files: SenderFiles;
  let sender: RunningSender;
  let raw: RawGrpc;
  let prefix: string;
  const tally = new Tally('sender');

  beforeAll(async () => {
    chain = await startSenderChain();
    files = await writeSenderFiles(chain);
    prefix = `${inject('redisPrefix')}fuzz-sender:`;
    sender = await bootSender(senderEnv(chain, files, { url: inject('redisUrl'), prefix }));
    raw = new RawGrpc(sender.grpcUrl);
  }, 60_000);

  afterAll(async () => {
    raw?.close();
    await sender?.close();
    await chain?.stop();
    files?.cleanup();
  });

  async function validStart(): Promise<Msg> {
    const p = await freshParams(chain, newOrchestrator(chain.recipient), {}, 400n);
    const req = startSessionRequest(p, chain.funded.address);
    return { ...req, sender: Buffer.from(req.sender) };
  }

  /** A session started over raw gRPC with fresh params; its id. */
  async function startSession(): Promise<string> {
    const started = await raw.call(
      `${SVC}/StartSession`,
      encode('ticketpay.sender.v1.StartSessionRequest', await validStart()),
      auth(GATEWAY_TOKEN),
    );
    expect(started.code, started.details).toBe(OK);
    return decode('ticketpay.sender.v1.StartSessionResponse', started.response!).sessionId as string;
  }

  it('unauthenticated and malformed calls: coded errors, Redis untouched', async () => {
    const before = await redisSnapshot(inject('redisUrl'), prefix);
    const valid = encode('ticketpay.sender.v1.StartSessionRequest', await validStart());
    const tokens = fc.sample(
      fc.oneof(fc.string({ maxLength: 80 }), fc.constant(''), fc.constant(GATEWAY_TOKEN + 'x')),
      {
        numRuns: 400,
        seed: SEED,
      },
    );
    await runAll(tokens, async (token) => {
      const md = token === '' ? new Metadata() : auth(token.replace(/[\r\n]/g, ''));
      const out = await raw.call(`${SVC}/StartSession`, valid, md);
      checkOutcome(tally, 'StartSession (wrong token)', out);
      expect(out.code).not.toBe(OK);
    });
    await runAll(fc.sample(bytes(400), { numRuns: 1500, seed: SEED + 1 }), async (b) => {
      checkOutcome(
        tally,
        'StartSession (raw bytes)',
        await raw.call(`${SVC}/StartSession`, b, auth(GATEWAY_TOKEN)),
      );
    });
    await runAll(fc.sample(bytes(200), { numRuns: 1000, seed: SEED + 2 }), async (b) => {
      const out = await raw.call(`${SVC}/CreateTicketBatch`, b, auth(GATEWAY_TOKEN));
      checkOutcome(tally, 'CreateTicketBatch (raw bytes)', out);
    });
    const unknownSessions = fc.record({ sessionId: fc.string({ maxLength: 200 }), size: fc.nat() });
    await runAll(fc.sample(unknownSessions, { numRuns: 1000, seed: SEED + 3 }), async (req) => {
      const out = await raw.call(
        `${SVC}/CreateTicketBatch`,
        encode('ticketpay.sender.v1.CreateTicketBatchRequest', req),
        auth(GATEWAY_TOKEN),
      );
      checkOutcome(tally, 'CreateTicketBatch (unknown session)', out);
      expect(out.code).not.toBe(OK);
    });
    expectSameSnapshot(before, await redisSnapshot(inject('redisUrl'), prefix));
  }, 120_000);

  it('hostile StartSession and batch sizes on a real session: coded errors or valid answers', async () => {
    const valid = await validStart();
    const cases = fc.sample(fc.array(startMutation, { minLength: 1, maxLength: 3 }), {
      numRuns: 1500,
      seed: SEED + 4,
    });
    await runAll(cases, async (mutations) => {
      const req = mutations.reduce((r, m) => m(r), valid);
      const out = await raw.call(
        `${SVC}/StartSession`,
        encode('ticketpay.sender.v1.StartSessionRequest', req),
        auth(GATEWAY_TOKEN),
      );
      checkOutcome(tally, 'StartSession (mutated request)', out);
    });
    // Fresh params: a mutated request above may have taken the first ones' recipientRandHash.
    const sessionId = await startSession();
    const sizes = fc.sample(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 }), fc.nat(0xffffffff)), {
      numRuns: 600,
      seed: SEED + 5,
    });
    let issued = 0;
    await runAll(sizes, async (size) => {
      const out = await raw.call(
        `${SVC}/CreateTicketBatch`,
        encode('ticketpay.sender.v1.CreateTicketBatchRequest', { sessionId, size }),
        auth(GATEWAY_TOKEN),
      );
      checkOutcome(tally, 'CreateTicketBatch (sizes)', out);
      if (out.code === OK) {
        const res = decode('ticketpay.sender.v1.CreateTicketBatchResponse', out.response!);
        issued += Number(res.lastNonce) - Number(res.firstNonce) + 1;
        expect(size).toBeGreaterThan(0);
      }
    });
    expect(issued).toBeGreaterThan(0);
    expect(await grpcHealthCheck(sender.grpcUrl)).toBe('SERVING');
  }, 120_000);

  it('EV, EndSession and Senders: coded errors, a session ends only by its own id and token', async () => {
    const sessionId = await startSession();
    const [, rand] = sessionId.split(':');
    /** Ids next to the real one: one character changed, cut, extended, recased, another sender's. */
    const nearMiss = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc
        .record({
          i: fc.nat(sessionId.length - 1),
          c: fc.constantFrom('0', 'f', 'F', ':', 'x', ' ', '\u0000'),
        })
        .map(({ i, c }) => sessionId.slice(0, i) + c + sessionId.slice(i + 1))
        .filter((id) => id !== sessionId),
      fc.nat(sessionId.length - 1).map((n) => sessionId.slice(0, n)),
      fc.string({ minLength: 1, maxLength: 20 }).map((t) => sessionId + t),
      fc.constant(sessionId.toUpperCase()),
      fc.constant(`${chain.unfunded.address.toLowerCase()}:${rand}`),
      fc
        .uint8Array({ minLength: 20, maxLength: 20 })
        .map((b) => `0x${Buffer.from(b).toString('hex')}:${rand}`),
      fc
        .uint8Array({ maxLength: 40 })
        .map((b) => `${chain.funded.address.toLowerCase()}:0x${Buffer.from(b).toString('hex')}`),
    );
    const caller = fc.oneof(
      { arbitrary: fc.constant(GATEWAY_TOKEN), weight: 3 },
      fc.constant(OTHER_TOKEN),
      fc.constant(''),
      fc.string({ maxLength: 60 }).map((t) => t.replace(/[\r\n]/g, '')),
    );
    const md = (token: string) => (token === '' ? new Metadata() : auth(token));
    const before = await redisSnapshot(inject('redisUrl'), prefix);

    // EV: read-only; the real id with the right token answers the session's EV, nothing else does.
    const evCases = fc.sample(
      fc.record({ sessionId: fc.oneof(nearMiss, fc.constant(sessionId)), token: caller }),
      { numRuns: 900, seed: SEED + 6 },
    );
    await runAll(evCases, async ({ sessionId: id, token }) => {
      const out = await raw.call(
        `${SVC}/EV`,
        encode('ticketpay.sender.v1.EVRequest', { sessionId: id }),
        md(token),
      );
      checkOutcome(tally, 'EV (session ids × tokens)', out);
      if (out.code === OK) expect(token === GATEWAY_TOKEN && id === sessionId).toBe(true);
    });
    await runAll(fc.sample(bytes(300), { numRuns: 400, seed: SEED + 7 }), async (b) => {
      checkOutcome(tally, 'EV (raw bytes)', await raw.call(`${SVC}/EV`, b, auth(GATEWAY_TOKEN)));
    });

    // Senders: no request fields; each token sees exactly its own accounts.
    const own = new Map([
      [GATEWAY_TOKEN, [chain.funded.address, chain.unfunded.address].map((a) => a.toLowerCase()).sort()],
      [OTHER_TOKEN, [chain.unfunded.address.toLowerCase()]],
    ]);
    const sendersCases = fc.sample(fc.record({ body: bytes(200), token: caller }), {
      numRuns: 900,
      seed: SEED + 8,
    });
    await runAll(sendersCases, async ({ body, token }) => {
      const out = await raw.call(`${SVC}/Senders`, body, md(token));
      checkOutcome(tally, 'Senders (raw bytes × tokens)', out);
      if (out.code === OK) {
        const res = decode('ticketpay.sender.v1.SendersResponse', out.response!) as {
          senders: { address: Buffer }[];
        };
        const seen = res.senders.map((a) => `0x${a.address.toString('hex')}`).sort();
        expect(seen).toEqual(own.get(token));
      }
    });

    // EndSession: only the real id with the right token may end it; every other case changes nothing.
    let ended = 0;
    const endCases = fc.sample(fc.record({ sessionId: nearMiss, token: caller }), {
      numRuns: 900,
      seed: SEED + 9,
    });
    await runAll(endCases, async ({ sessionId: id, token }) => {
      const out = await raw.call(
        `${SVC}/EndSession`,
        encode('ticketpay.sender.v1.EndSessionRequest', { sessionId: id }),
        md(token),
      );
      if (checkOutcome(tally, 'EndSession (session ids × tokens)', out) && out.code === OK) {
        if (decode('ticketpay.sender.v1.EndSessionResponse', out.response!).ended === true) ended++;
      }
    });
    await runAll(fc.sample(bytes(300), { numRuns: 400, seed: SEED + 10 }), async (b) => {
      checkOutcome(
        tally,
        'EndSession (raw bytes)',
        await raw.call(`${SVC}/EndSession`, b, auth(GATEWAY_TOKEN)),
      );
    });
    expect(ended, 'a near-miss id or a wrong token ended the session').toBe(0);
    expectSameSnapshot(before, await redisSnapshot(inject('redisUrl'), prefix));

    // The control: the real id ends it once, and then it issues nothing.
    const end = () =>
      raw.call(
        `${SVC}/EndSession`,
        encode('ticketpay.sender.v1.EndSessionRequest', { sessionId }),
        auth(GATEWAY_TOKEN),
      );
    const first = await end();
    expect(first.code, first.details).toBe(OK);
    expect(decode('ticketpay.sender.v1.EndSessionResponse', first.response!).ended).toBe(true);
    const again = await end();
    expect(decode('ticketpay.sender.v1.EndSessionResponse', again.response!).ended).toBe(false);
    const batch = await raw.call(
      `${SVC}/CreateTicketBatch`,
      encode('ticketpay.sender.v1.CreateTicketBatchRequest', { sessionId, size: 1 }),
      auth(GATEWAY_TOKEN),
    );
    checkOutcome(tally, 'CreateTicketBatch (ended session)', batch);
    expect(batch.code).not.toBe(OK);
    expect(await grpcHealthCheck(sender.grpcUrl)).toBe('SERVING');
  }, 120_000);

  it('reports the cases tried', () => {
    tally.report();
    expect(tally.total()).toBeGreaterThan(9_000);
  });
});
