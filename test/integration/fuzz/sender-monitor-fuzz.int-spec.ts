import fc from 'fast-check';
import pg from 'pg';
import { parseEther, type Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { redeemerTicketCodec } from '#app/proto';
import { grpcHealthCheck } from '#app/testing';
import { mined } from '../contracts/protocol-fixture.js';
import { startMonitor, winningTicket, type MonitorUnderTest } from '../sender-monitor/harness.js';
import { checkOutcome, expectSameSnapshot, OK, redisSnapshot, Tally } from './fuzz-kit.js';
import { decode, encode, RawGrpc } from './raw-grpc.js';
import { privateDatabase, type PrivateDatabase } from '../../support/private-database.js';
import { runAll } from './run-all.js';

const NET = '/net.TicketRedeemer';
const OURS = '/ticketpay.sendermonitor.v1.SenderMonitor';
const SEED = 0x3a11;
type Msg = Record<string, unknown>;

const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b));
const int64 = fc.bigInt(-(1n << 63n), (1n << 63n) - 1n).map(String);

/** Ways to break a valid net.Ticket: every field, any length, any value. */
const ticketMutation: fc.Arbitrary<(t: Msg) => Msg> = fc.oneof(
  bytes(64).map((b) => (t: Msg) => ({ ...t, sender: b })),
  bytes(64).map((b) => (t: Msg) => ({ ...t, recipientRand: b })),
  fc
    .constantFrom('recipient', 'faceValue', 'winProb', 'recipientRandHash')
    .chain((f) =>
      bytes(70).map((b) => (t: Msg) => ({ ...t, ticketParams: { ...(t.ticketParams as Msg), [f]: b } })),
    ),
  fc.record({ creationRound: int64, creationRoundBlockHash: bytes(40) }).map((e) => (t: Msg) => ({
    ...t,
    expirationParams: e,
  })),
  fc
    .record({ senderNonce: fc.nat(0xffffffff), sig: bytes(100) })
    .map((sp) => (t: Msg) => ({ ...t, senderParams: sp })),
  fc.nat(64).map((i) => (t: Msg) => {
    const sp = (t.senderParams ?? {}) as Msg;
    const sig = Buffer.from((sp.sig as Uint8Array | undefined) ?? []);
    if (sig.length > 0) sig[i % sig.length] ^= 1;
    return { ...t, senderParams: { ...sp, sig } };
  }),
  fc.constantFrom('ticketParams', 'expirationParams', 'senderParams', 'sender').map((f) => (t: Msg) => ({
    ...t,
    [f]: undefined,
  })),
);

/** Fields outside the signed ticket (go-livepeer's too): changing them leaves the same ticket. */
const unsignedMutation: fc.Arbitrary<(t: Msg) => Msg> = fc
  .record({ seed: bytes(40), expirationBlock: bytes(12) })
  .map((u) => (t: Msg) => ({ ...t, ticketParams: { ...(t.ticketParams as Msg), ...u } }));

describe('fuzz: SenderMonitor gRPC (net.TicketRedeemer + SenderMonitor)', () => {
  let m: MonitorUnderTest;
  // Its own database: the ticket it queues must not show up in other files' totals.
  let database: PrivateDatabase;
  let db: pg.Client;
  let raw: RawGrpc;
  let sender: Wallet;
  const tally = new Tally('sender-monitor');

  beforeAll(async () => {
    database = await privateDatabase('fuzz-monitor');
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    m = await startMonitor('fuzz-monitor', { DATABASE_URL: database.url });
    raw = new RawGrpc(m.grpcUrl);
    sender = await m.fx.newAccount();
    const ETH = parseEther('1');
    await mined(m.fx.brokerAs(sender).fundDepositAndReserve(ETH, ETH, { value: 2n * ETH }));
    await m.caughtUp();
  }, 60_000);

  afterAll(async () => {
    raw?.close();
    await m?.stop();
    await db?.end();
    await database?.drop();
  });

  const rows = async () =>
    Number(
      (
        await db.query<{ n: string }>('SELECT count(*)::text AS n FROM winning_ticket WHERE sender = $1', [
          sender.address.toLowerCase(),
        ])
      ).rows[0].n,
    );

  it('QueueTicket: hostile tickets are refused with codes and store nothing', async () => {
    const r0 = m.fx.recipients[0].address.toLowerCase();
    const valid = redeemerTicketCodec.toMessage(
      await winningTicket(m.fx, sender, r0, parseEther('0.01')),
    ) as unknown as Msg;
    const before = await rows();
    const redisBefore = await redisSnapshot(inject('redisUrl'), `${inject('redisPrefix')}fuzz-monitor:`);
    await runAll(fc.sample(bytes(500), { numRuns: 1500, seed: SEED }), async (b) => {
      checkOutcome(tally, 'net QueueTicket (raw bytes)', await raw.call(`${NET}/QueueTicket`, b));
    });
    const cases = fc.sample(fc.array(ticketMutation, { minLength: 1, maxLength: 3 }), {
      numRuns: 1500,
      seed: SEED + 1,
    });
    let accepted = 0;
    await runAll(cases, async (mutations) => {
      const ticket = mutations.reduce((t, f) => f(t), valid);
      const out = await raw.call(`${NET}/QueueTicket`, encode('net.Ticket', ticket));
      if (checkOutcome(tally, 'net QueueTicket (mutated ticket)', out) && out.code === OK) accepted++;
    });
    expect(accepted, 'a mutated ticket was queued').toBe(0);
    expect(await rows()).toBe(before);
    expectSameSnapshot(
      redisBefore,
      await redisSnapshot(inject('redisUrl'), `${inject('redisPrefix')}fuzz-monitor:`),
    );
    // The control: the unmutated ticket is queued, once.
    const ok = await raw.call(`${NET}/QueueTicket`, encode('net.Ticket', valid));
    expect(ok.code, ok.details).toBe(OK);
    expect(await rows()).toBe(before + 1);
    // The same ticket with other unsigned fields: accepted as a duplicate or refused with a code
    // (an expiration block past int64), never stored a second time.
    await runAll(fc.sample(unsignedMutation, { numRuns: 500, seed: SEED + 6 }), async (f) => {
      const out = await raw.call(`${NET}/QueueTicket`, encode('net.Ticket', f(valid)));
      checkOutcome(tally, 'net QueueTicket (unsigned fields)', out);
    });
    expect(await rows()).toBe(before + 1);
  }, 120_000);

  it('MaxFloat (both APIs): coded errors for bad senders and recipients', async () => {
    await runAll(fc.sample(bytes(100), { numRuns: 1000, seed: SEED + 2 }), async (b) => {
      checkOutcome(tally, 'net MaxFloat (raw bytes)', await raw.call(`${NET}/MaxFloat`, b));
    });
    await runAll(fc.sample(bytes(40), { numRuns: 1000, seed: SEED + 3 }), async (s) => {
      const out = await raw.call(`${NET}/MaxFloat`, encode('net.MaxFloatReq', { sender: s }));
      checkOutcome(tally, 'net MaxFloat (sender bytes)', out);
    });
    const addr = fc.oneof(
      fc.string({ maxLength: 60 }),
      bytes(25).map((b) => `0x${b.toString('hex')}`),
      fc.constant(sender.address),
      fc.constant(m.fx.recipients[0].address),
    );
    const reqs = fc.sample(fc.record({ sender: addr, recipient: addr }), { numRuns: 1500, seed: SEED + 4 });
    await runAll(reqs, async (req) => {
      const out = await raw.call(
        `${OURS}/MaxFloat`,
        encode('ticketpay.sendermonitor.v1.MaxFloatRequest', req),
      );
      checkOutcome(tally, 'SenderMonitor MaxFloat (structured)', out);
    });
    await runAll(fc.sample(bytes(100), { numRuns: 500, seed: SEED + 5 }), async (b) => {
      checkOutcome(tally, 'SenderMonitor MaxFloat (raw bytes)', await raw.call(`${OURS}/MaxFloat`, b));
    });
    expect(await grpcHealthCheck(m.grpcUrl)).toBe('SERVING');
  }, 120_000);

  it('ValidateSender, SenderInfo and both max float streams: coded errors, nothing changes', async () => {
    const before = await rows();
    const redisBefore = await redisSnapshot(inject('redisUrl'), `${inject('redisPrefix')}fuzz-monitor:`);
    const addr = fc.oneof(
      fc.string({ maxLength: 60 }),
      bytes(25).map((b) => `0x${b.toString('hex')}`),
      // Well-formed addresses of nobody, in every case form, and the zero address.
      fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => `0x${Buffer.from(b).toString('hex')}`),
      fc
        .uint8Array({ minLength: 20, maxLength: 20 })
        .map((b) => `0x${Buffer.from(b).toString('hex').toUpperCase()}`),
      fc.constantFrom(
        sender.address,
        sender.address.toLowerCase(),
        sender.address.slice(2),
        `0X${sender.address.slice(2)}`,
        `${sender.address} `,
        `0x${'0'.repeat(40)}`,
        m.fx.recipients[0].address,
      ),
    );
    const senderReq = fc.record({ sender: addr }, { requiredKeys: [] });
    for (const method of ['ValidateSender', 'SenderInfo'] as const) {
      const type = `ticketpay.sendermonitor.v1.${method}Request`;
      await runAll(fc.sample(senderReq, { numRuns: 800, seed: SEED + 7 }), async (req) => {
        const out = await raw.call(`${OURS}/${method}`, encode(type, req));
        checkOutcome(tally, `SenderMonitor ${method} (structured)`, out);
        if (out.code === OK && method === 'SenderInfo') {
          const info = decode('ticketpay.sendermonitor.v1.SenderInfoResponse', out.response!);
          expect(String(info.sender).toLowerCase()).toBe(
            req.sender!.trim().toLowerCase().replace(/^0x/i, '0x'),
          );
        }
      });
      await runAll(fc.sample(bytes(100), { numRuns: 300, seed: SEED + 8 }), async (b) => {
        checkOutcome(tally, `SenderMonitor ${method} (raw bytes)`, await raw.call(`${OURS}/${method}`, b));
      });
    }
    // Streams: judged by their first message or their refusal, then cancelled.
    const streamed = (endpoint: string, out: Awaited<ReturnType<RawGrpc['firstOfStream']>>) => {
      if (checkOutcome(tally, endpoint, out) && out.code === OK && !out.response)
        tally.fail(endpoint, 'the stream ended without its first message');
    };
    const watchReq = fc.record(
      { sender: addr, recipient: fc.oneof(addr, fc.constant('')) },
      { requiredKeys: [] },
    );
    await runAll(fc.sample(watchReq, { numRuns: 500, seed: SEED + 9 }), async (req) => {
      const out = await raw.firstOfStream(
        `${OURS}/WatchMaxFloat`,
        encode('ticketpay.sendermonitor.v1.WatchMaxFloatRequest', req),
      );
      streamed('SenderMonitor WatchMaxFloat (structured)', out);
    });
    await runAll(fc.sample(bytes(100), { numRuns: 200, seed: SEED + 10 }), async (b) => {
      streamed(
        'SenderMonitor WatchMaxFloat (raw bytes)',
        await raw.firstOfStream(`${OURS}/WatchMaxFloat`, b),
      );
    });
    const netSender = fc.oneof(
      bytes(40),
      fc.constant(Buffer.from(sender.address.slice(2), 'hex')),
      fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b)),
    );
    await runAll(fc.sample(netSender, { numRuns: 500, seed: SEED + 11 }), async (s) => {
      const out = await raw.firstOfStream(`${NET}/MonitorMaxFloat`, encode('net.MaxFloatReq', { sender: s }));
      streamed('net MonitorMaxFloat (sender bytes)', out);
    });
    await runAll(fc.sample(bytes(100), { numRuns: 200, seed: SEED + 12 }), async (b) => {
      streamed('net MonitorMaxFloat (raw bytes)', await raw.firstOfStream(`${NET}/MonitorMaxFloat`, b));
    });
    expect(await rows()).toBe(before);
    expectSameSnapshot(
      redisBefore,
      await redisSnapshot(inject('redisUrl'), `${inject('redisPrefix')}fuzz-monitor:`),
    );
    expect(await grpcHealthCheck(m.grpcUrl)).toBe('SERVING');
  }, 120_000);

  it('reports the cases tried', () => {
    tally.report();
    expect(tally.total()).toBeGreaterThan(10_000);
  });
});
