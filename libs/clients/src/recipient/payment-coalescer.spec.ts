import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { encodePaymentHeader, paymentCodec, type PaymentMessage } from '#app/proto';
import {
  PaymentCoalescer,
  encodedSizeBound,
  ticketCount,
  type PaymentTransport,
} from './payment-coalescer.js';
import type {
  PaymentErrorMessage,
  ProcessPaymentRequest,
  ProcessPaymentResponse,
  ProcessPaymentsResponse,
} from './recipient.messages.js';

class CallFailed extends Error {
  constructor(readonly status: status) {
    super(`call failed with ${status}`);
  }
}

/** Answers each payment by its job id: `ok-*` succeeds, `bad-*` fails with its own code. */
function answer(request: ProcessPaymentRequest): ProcessPaymentsResponse['results'][number] {
  const job = request.jobId ?? '';
  if (job.startsWith('bad')) {
    return {
      error: { status: status.INVALID_ARGUMENT, code: `CODE_${job}`, domain: 'ticket', message: job },
    };
  }
  return { response: response(job) };
}

function response(job: string): ProcessPaymentResponse {
  return {
    tickets: [],
    credited: { num: job, den: '1' },
    balance: { num: '0', den: '1' },
    acceptedCount: 1,
    winningCount: 0,
  };
}

/** A fake Recipient that records what went over the wire. */
function fakeTransport(opts: { batchFails?: Error } = {}) {
  const calls: { kind: 'single' | 'batch'; jobs: string[]; deadline: number }[] = [];
  const transport: PaymentTransport = {
    single: (request, deadline) => {
      calls.push({ kind: 'single', jobs: [request.jobId!], deadline });
      const result = answer(request);
      return result.error
        ? Promise.reject(transport.failure(result.error))
        : Promise.resolve(result.response);
    },
    batch: (requests, deadline) => {
      calls.push({ kind: 'batch', jobs: requests.map((r) => r.jobId!), deadline });
      if (opts.batchFails) return Promise.reject(opts.batchFails);
      return Promise.resolve({ results: requests.map(answer) });
    },
    failure: (e: PaymentErrorMessage) =>
      Object.assign(new Error(e.message), { code: e.code, status: e.status }),
    retryAlone: (err) => {
      const code = err instanceof CallFailed ? err.status : undefined;
      if (code === status.UNIMPLEMENTED) return 'always';
      return code === status.RESOURCE_EXHAUSTED ? 'once' : false;
    },
  };
  return { transport, calls };
}

const payment = (jobId: string): ProcessPaymentRequest => ({ jobId, paymentHeader: 'x'.repeat(100) });

/** A payment message with `tickets` tickets (only what the coalescer reads is real). */
function paymentWith(tickets: number): PaymentMessage {
  return {
    ticketParams: {
      recipient: new Uint8Array(20).fill(1),
      faceValue: Uint8Array.of(9),
      winProb: Uint8Array.of(5),
    },
    sender: new Uint8Array(20).fill(2),
    ticketSenderParams: Array.from({ length: tickets }, (_, i) => ({
      senderNonce: i + 1,
      sig: new Uint8Array(65).fill(3),
    })),
    expectedPrice: { pricePerUnit: '1200', pixelsPerUnit: '1' },
  };
}

function headerWith(tickets: number): string {
  return encodePaymentHeader(paymentCodec.fromMessage(paymentWith(tickets)));
}

describe('PaymentCoalescer', () => {
  it('sends a lone call as a plain ProcessPayment, without waiting for company', async () => {
    const { transport, calls } = fakeTransport();
    const coalescer = new PaymentCoalescer(transport);
    await expect(coalescer.submit(payment('ok-1'), 1000)).resolves.toEqual(response('ok-1'));
    expect(calls).toEqual([{ kind: 'single', jobs: ['ok-1'], deadline: 1000 }]);
  });

  it('folds the calls of one tick into one batch and gives each caller its own result or error', async () => {
    const { transport, calls } = fakeTransport();
    const coalescer = new PaymentCoalescer(transport);
    const jobs = ['ok-1', 'bad-2', 'ok-3', 'bad-4', 'ok-5'];
    const settled = await Promise.allSettled(jobs.map((j, i) => coalescer.submit(payment(j), 5000 - i)));
    expect(calls).toEqual([{ kind: 'batch', jobs, deadline: 4996 }]);
    settled.forEach((s, i) => {
      if (jobs[i].startsWith('ok')) expect(s).toEqual({ status: 'fulfilled', value: response(jobs[i]) });
      else {
        expect(s.status).toBe('rejected');
        expect((s as PromiseRejectedResult).reason).toMatchObject({
          code: `CODE_${jobs[i]}`,
          message: jobs[i],
        });
      }
    });
  });

  it('caps a batch by count and by bytes, and sends a payment too large for any batch alone', async () => {
    const { transport, calls } = fakeTransport();
    const size = encodedSizeBound(payment('ok-0'));
    const coalescer = new PaymentCoalescer(transport, {
      maxPayments: 3,
      maxBytes: size * 2,
      maxTickets: 100,
    });
    const big = { jobId: 'ok-big', paymentHeader: 'x'.repeat(size * 2) };
    await Promise.all([
      ...['ok-1', 'ok-2', 'ok-3', 'ok-4', 'ok-5'].map((j) => coalescer.submit(payment(j), 1)),
      coalescer.submit(big, 1),
    ]);
    expect(calls.map((c) => [c.kind, c.jobs])).toEqual([
      ['batch', ['ok-1', 'ok-2']],
      ['batch', ['ok-3', 'ok-4']],
      ['single', ['ok-big']],
      ['single', ['ok-5']],
    ]);

    const { transport: t2, calls: byCount } = fakeTransport();
    const counted = new PaymentCoalescer(t2, { maxPayments: 3, maxBytes: 1 << 20, maxTickets: 100 });
    await Promise.all(['ok-1', 'ok-2', 'ok-3', 'ok-4'].map((j) => counted.submit(payment(j), 1)));
    expect(byCount.map((c) => c.jobs)).toEqual([['ok-1', 'ok-2', 'ok-3'], ['ok-4']]);
  });

  it('caps a batch by tickets, and sends a payment with more tickets than a batch may hold alone', async () => {
    const { transport, calls } = fakeTransport();
    const coalescer = new PaymentCoalescer(transport, { maxPayments: 64, maxBytes: 1 << 20, maxTickets: 10 });
    const sized = (jobId: string, tickets: number): ProcessPaymentRequest =>
      tickets % 2 ? { jobId, payment: paymentWith(tickets) } : { jobId, paymentHeader: headerWith(tickets) };
    await Promise.all(
      (
        [
          ['ok-1', 4],
          ['ok-2', 6],
          ['ok-3', 1],
          ['ok-big', 11],
          ['ok-4', 2],
          ['ok-5', 1],
        ] as const
      ).map(([job, tickets]) => coalescer.submit(sized(job, tickets), 1)),
    );
    expect(calls.map((c) => [c.kind, c.jobs])).toEqual([
      ['batch', ['ok-1', 'ok-2']],
      ['single', ['ok-big']],
      ['batch', ['ok-3', 'ok-4', 'ok-5']],
    ]);
  });

  it('counts the tickets of a payment message and of a payment header', () => {
    for (const tickets of [0, 1, 10, 300]) {
      expect(ticketCount({ payment: paymentWith(tickets) })).toBe(tickets);
      expect(ticketCount({ paymentHeader: headerWith(tickets) })).toBe(tickets);
    }
    expect(ticketCount({ jobId: 'none' })).toBe(0);
    // A truncated header counts the tickets it still holds whole or in part; nothing throws.
    const header = Buffer.from(headerWith(3), 'base64');
    expect(ticketCount({ paymentHeader: header.subarray(0, header.length - 10).toString('base64') })).toBe(3);
    expect(ticketCount({ paymentHeader: 'not base64!' })).toBe(0);
  });

  it('fails every caller of a batch with the batch’s transport error', async () => {
    const failure = new CallFailed(status.UNAVAILABLE);
    const { transport } = fakeTransport({ batchFails: failure });
    const coalescer = new PaymentCoalescer(transport);
    const settled = await Promise.allSettled(['ok-1', 'ok-2'].map((j) => coalescer.submit(payment(j), 1)));
    expect(settled).toEqual([
      { status: 'rejected', reason: failure },
      { status: 'rejected', reason: failure },
    ]);
  });

  it('resends a batch refused as too large one by one, and stops batching for a server without the RPC', async () => {
    const tooLarge = fakeTransport({ batchFails: new CallFailed(status.RESOURCE_EXHAUSTED) });
    const once = new PaymentCoalescer(tooLarge.transport);
    await expect(
      Promise.all(['ok-1', 'bad-2'].map((j) => once.submit(payment(j), 1).catch((e: Error) => e.message))),
    ).resolves.toEqual([response('ok-1'), 'bad-2']);
    await Promise.all(['ok-3', 'ok-4'].map((j) => once.submit(payment(j), 1)));
    expect(tooLarge.calls.map((c) => c.kind)).toEqual([
      'batch',
      'single',
      'single',
      'batch',
      'single',
      'single',
    ]);

    const old = fakeTransport({ batchFails: new CallFailed(status.UNIMPLEMENTED) });
    const always = new PaymentCoalescer(old.transport);
    await Promise.all(['ok-1', 'ok-2'].map((j) => always.submit(payment(j), 1)));
    await Promise.all(['ok-3', 'ok-4'].map((j) => always.submit(payment(j), 1)));
    expect(old.calls.map((c) => c.kind)).toEqual(['batch', 'single', 'single', 'single', 'single']);
  });

  it('fails the callers left without a result when the server answers too few', async () => {
    const { transport } = fakeTransport();
    transport.batch = () => Promise.resolve({ results: [answer(payment('ok-1'))] });
    const coalescer = new PaymentCoalescer(transport);
    const settled = await Promise.allSettled(['ok-1', 'ok-2'].map((j) => coalescer.submit(payment(j), 1)));
    expect(settled[0]).toEqual({ status: 'fulfilled', value: response('ok-1') });
    expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'BAD_RESPONSE' });
  });

  it('bounds a message’s encoded size from above', () => {
    expect(
      encodedSizeBound({ a: new Uint8Array(100), b: 'héllo', c: [1, 2n, true], d: null }),
    ).toBeGreaterThan(100 + 6 + 3);
  });
});
