import { Metadata } from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { priceInfoCodec, ticketParamsCodec } from '#app/proto';
import { grpcHealthCheck } from '#app/testing';
import { hexToBytes } from '#app/ticket';
import {
  bootSender,
  chainView,
  GATEWAY_TOKEN,
  newOrchestrator,
  orchestratorParams,
  senderEnv,
  startSenderChain,
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
    const { block, round } = await chainView(chain);
    const p = orchestratorParams(newOrchestrator(chain.recipient), {
      sender: chain.funded,
      expirationBlock: block + 400n,
      expirationParams: round,
    });
    return {
      sender: Buffer.from(hexToBytes(chain.funded.address.toLowerCase(), 'sender', 20)),
      ticketParams: ticketParamsCodec.toMessage(p.params),
      expectedPrice: priceInfoCodec.toMessage(p.price),
    };
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
    const started = await raw.call(
      `${SVC}/StartSession`,
      // Fresh params: a mutated request above may have taken the first ones' recipientRandHash.
      encode('ticketpay.sender.v1.StartSessionRequest', await validStart()),
      auth(GATEWAY_TOKEN),
    );
    expect(started.code, started.details).toBe(OK);
    const sessionId = decode('ticketpay.sender.v1.StartSessionResponse', started.response!)
      .sessionId as string;
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

  it('reports the cases tried', () => {
    tally.report();
    expect(tally.total()).toBeGreaterThan(5_000);
  });
});
