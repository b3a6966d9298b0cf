import { status } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type {
  PaymentErrorMessage,
  ProcessPaymentRequest,
  ProcessPaymentResponse,
  ProcessPaymentsResponse,
} from './recipient.messages.js';
import { MAX_PAYMENTS_PER_BATCH } from './recipient.messages.js';

/** Limits of one coalesced ProcessPayments call. */
export interface CoalescingLimits {
  /** Payments per call (at most MAX_PAYMENTS_PER_BATCH, the server's cap). */
  maxPayments: number;
  /**
   * Upper bound of a call's encoded size, bytes: keep it under the server's
   * RECIPIENT_GRPC_MAX_REQUEST_BYTES (4 MiB by default). A payment larger than this goes alone.
   */
  maxBytes: number;
  /**
   * Tickets per call. A call is answered when its slowest payment is, and the Recipient's work
   * grows with tickets: large payments gain little from sharing a call (per-call costs are small
   * next to theirs) but would wait for each other. Small ones, where per-call costs dominate,
   * still travel many to a call. A payment with more tickets than this goes alone.
   */
  maxTickets: number;
}

export const DEFAULT_COALESCING: CoalescingLimits = {
  maxPayments: 64,
  maxBytes: 1024 * 1024,
  maxTickets: 64,
};

/** How the coalescer reaches the Recipient; failures reject with the client's typed error. */
export interface PaymentTransport {
  /** One ProcessPayment call. */
  single(request: ProcessPaymentRequest, deadline: number): Promise<ProcessPaymentResponse>;
  /** One ProcessPayments call. */
  batch(requests: ProcessPaymentRequest[], deadline: number): Promise<ProcessPaymentsResponse>;
  /** The error a ProcessPayment call failing with `error` rejects with. */
  failure(error: PaymentErrorMessage): Error;
  /**
   * Whether the payments of a failed ProcessPayments call go again as single calls: 'once' when
   * the batch was refused as too large (each payment alone may still fit), 'always' when the
   * server does not know the method (an older Recipient), false when each fails with `err`.
   */
  retryAlone(err: unknown): false | 'once' | 'always';
}

interface Waiter {
  request: ProcessPaymentRequest;
  deadline: number;
  resolve: (response: ProcessPaymentResponse) => void;
  reject: (err: unknown) => void;
}

/**
 * Folds the `processPayment` calls made in one turn of the event loop into one ProcessPayments
 * call. Each caller still gets exactly its own response or its own error, as a lone
 * ProcessPayment would have given it. Nothing waits on a timer: the pending calls leave on the
 * next `setImmediate`, so a lone call costs no added latency (and goes as a plain ProcessPayment).
 */
export class PaymentCoalescer {
  private pending: Waiter[] = [];
  private pendingBytes = 0;
  private pendingTickets = 0;
  private scheduled = false;
  /** Off after the server answered UNIMPLEMENTED: an older Recipient without ProcessPayments. */
  private batching = true;

  constructor(
    private readonly transport: PaymentTransport,
    private readonly limits: CoalescingLimits = DEFAULT_COALESCING,
  ) {
    if (limits.maxPayments < 1 || limits.maxPayments > MAX_PAYMENTS_PER_BATCH) {
      throw new RangeError(`maxPayments must be 1 to ${MAX_PAYMENTS_PER_BATCH}`);
    }
  }

  submit(request: ProcessPaymentRequest, deadline: number): Promise<ProcessPaymentResponse> {
    if (!this.batching) return this.transport.single(request, deadline);
    const bytes = encodedSizeBound(request);
    const tickets = ticketCount(request);
    const { maxBytes, maxTickets } = this.limits;
    if (bytes > maxBytes || tickets > maxTickets) return this.transport.single(request, deadline);
    if (this.pendingBytes + bytes > maxBytes || this.pendingTickets + tickets > maxTickets) this.flush();
    return new Promise<ProcessPaymentResponse>((resolve, reject) => {
      this.pending.push({ request, deadline, resolve, reject });
      this.pendingBytes += bytes;
      this.pendingTickets += tickets;
      if (this.pending.length >= this.limits.maxPayments) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    const waiters = this.pending;
    if (waiters.length === 0) return;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingTickets = 0;
    if (waiters.length === 1) this.alone(waiters[0]);
    else void this.send(waiters);
  }

  private alone(w: Waiter): void {
    this.transport.single(w.request, w.deadline).then(w.resolve, w.reject);
  }

  private async send(waiters: Waiter[]): Promise<void> {
    const deadline = Math.min(...waiters.map((w) => w.deadline));
    let answer: ProcessPaymentsResponse;
    try {
      answer = await this.transport.batch(
        waiters.map((w) => w.request),
        deadline,
      );
    } catch (err) {
      const retry = this.transport.retryAlone(err);
      if (retry) {
        if (retry === 'always') this.batching = false;
        for (const w of waiters) this.alone(w);
      } else {
        for (const w of waiters) w.reject(err);
      }
      return;
    }
    const results = answer.results ?? [];
    waiters.forEach((w, i) => {
      const result = results[i];
      if (result?.response) w.resolve(result.response);
      else if (result?.error) w.reject(this.transport.failure(result.error));
      else {
        w.reject(
          this.transport.failure({
            status: status.INTERNAL,
            code: 'BAD_RESPONSE',
            domain: 'client',
            message: `ProcessPayments answered ${results.length} results for ${waiters.length} payments`,
          }),
        );
      }
    });
  }
}

/** Payment.ticket_sender_params (lp_rpc.proto): field 4, length-delimited. */
const TICKET_SENDER_PARAMS_TAG = (4 << 3) | 2;

/**
 * The tickets a payment carries: counted in the message, or in the header's top-level protobuf
 * fields without decoding them (a malformed header counts what was read; the Recipient refuses it).
 */
export function ticketCount(request: ProcessPaymentRequest): number {
  if (request.payment) return request.payment.ticketSenderParams?.length ?? 0;
  if (!request.paymentHeader) return 0;
  const reader = protobuf.Reader.create(Buffer.from(request.paymentHeader, 'base64'));
  let count = 0;
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag === TICKET_SENDER_PARAMS_TAG) count++;
      reader.skipType(tag & 7);
    }
  } catch {
    // Malformed: what was counted so far.
  }
  return count;
}

/**
 * An upper bound of a plain message object's protobuf size, without encoding it: every field
 * counted with the largest tag and length prefix it could take. Cheap enough to run per call.
 */
export function encodedSizeBound(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (value instanceof Uint8Array) return value.length + 10;
  switch (typeof value) {
    case 'string':
      return Buffer.byteLength(value) + 10;
    case 'number':
    case 'bigint':
    case 'boolean':
      return 15;
    case 'object': {
      let size = 10;
      if (Array.isArray(value)) for (const item of value) size += encodedSizeBound(item);
      else for (const key in value) size += encodedSizeBound((value as Record<string, unknown>)[key]);
      return size;
    }
    default:
      return 0;
  }
}
