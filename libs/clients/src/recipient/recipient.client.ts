import {
  credentials,
  loadPackageDefinition,
  Metadata,
  status,
  type Client,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { readErrorTrailers } from '#app/common';
import type {
  BalanceRequest,
  BalanceResponse,
  DebitRequest,
  EVResponse,
  GetTicketParamsRequest,
  GetTicketParamsResponse,
  ProcessPaymentRequest,
  ProcessPaymentResponse,
  ProcessPaymentsRequest,
  ProcessPaymentsResponse,
  TxCostMultiplierRequest,
  TxCostMultiplierResponse,
} from './recipient.messages.js';
import { RECIPIENT_GRPC } from './recipient.proto-paths.js';
import {
  DEFAULT_COALESCING,
  PaymentCoalescer,
  type CoalescingLimits,
  type PaymentTransport,
} from './payment-coalescer.js';
import { GRPC_LOADER_OPTIONS, ProtoErrorCode } from '#app/proto';

/** A failed call: the gRPC status plus the Recipient's stable error code from the trailers. */
export class RecipientCallError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'RecipientCallError';
  }
}

type Unary<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: { deadline: number },
  callback: (err: ServiceError | null, response?: Res) => void,
) => void;

type RawClient = Client & {
  GetTicketParams: Unary<GetTicketParamsRequest, GetTicketParamsResponse>;
  ProcessPayment: Unary<ProcessPaymentRequest, ProcessPaymentResponse>;
  ProcessPayments: Unary<ProcessPaymentsRequest, ProcessPaymentsResponse>;
  Debit: Unary<DebitRequest, BalanceResponse>;
  Balance: Unary<BalanceRequest, BalanceResponse>;
  EV: Unary<Record<string, never>, EVResponse>;
  TxCostMultiplier: Unary<TxCostMultiplierRequest, TxCostMultiplierResponse>;
};

let constructorCache: ServiceClientConstructor | undefined;

function serviceConstructor(): ServiceClientConstructor {
  if (!constructorCache) {
    const definition = loadSync(RECIPIENT_GRPC.protoPaths, {
      ...GRPC_LOADER_OPTIONS,
      includeDirs: RECIPIENT_GRPC.includeDirs,
    });
    const pkg = loadPackageDefinition(definition) as unknown as {
      ticketpay: { recipient: { v1: { Recipient: ServiceClientConstructor } } };
    };
    constructorCache = pkg.ticketpay.recipient.v1.Recipient;
  }
  return constructorCache;
}

export interface RecipientClientOptions {
  /**
   * Concurrent `processPayment` calls travel together in ProcessPayments calls (default), each
   * caller still getting its own result or error; false sends one ProcessPayment per call.
   */
  coalesce?: boolean | Partial<CoalescingLimits>;
}

/** A promise-based client of `ticketpay.recipient.v1.Recipient` (orchestrator side, tests, benchmarks). */
export class RecipientClient {
  private readonly raw: RawClient;
  private readonly coalescer?: PaymentCoalescer;

  constructor(
    target: string,
    private readonly timeoutMs = 10_000,
    options: RecipientClientOptions = {},
  ) {
    const Ctor = serviceConstructor();
    this.raw = new Ctor(target, credentials.createInsecure(), {
      // Per-call bookkeeping for a debugging service nobody queries here.
      'grpc.enable_channelz': 0,
    }) as unknown as RawClient;
    const coalesce = options.coalesce ?? true;
    if (coalesce !== false) {
      const limits = { ...DEFAULT_COALESCING, ...(coalesce === true ? {} : coalesce) };
      this.coalescer = new PaymentCoalescer(this.paymentTransport(), limits);
    }
  }

  getTicketParams(request: GetTicketParamsRequest): Promise<GetTicketParamsResponse> {
    return this.call(this.raw.GetTicketParams, request);
  }

  /** One payment; concurrent calls are coalesced into ProcessPayments unless turned off. */
  processPayment(request: ProcessPaymentRequest): Promise<ProcessPaymentResponse> {
    if (this.coalescer) return this.coalescer.submit(request, Date.now() + this.timeoutMs);
    return this.call(this.raw.ProcessPayment, request);
  }

  /** One ProcessPayments call, as it is: per-payment results and errors in request order. */
  processPayments(request: ProcessPaymentsRequest): Promise<ProcessPaymentsResponse> {
    return this.call(this.raw.ProcessPayments, request);
  }

  debit(request: DebitRequest): Promise<BalanceResponse> {
    return this.call(this.raw.Debit, request);
  }

  balance(request: BalanceRequest): Promise<BalanceResponse> {
    return this.call(this.raw.Balance, request);
  }

  ev(): Promise<EVResponse> {
    return this.call(this.raw.EV, {});
  }

  txCostMultiplier(request: TxCostMultiplierRequest): Promise<TxCostMultiplierResponse> {
    return this.call(this.raw.TxCostMultiplier, request);
  }

  close(): void {
    this.raw.close();
  }

  private paymentTransport(): PaymentTransport {
    return {
      single: (request, deadline) => this.call(this.raw.ProcessPayment, request, deadline),
      batch: (payments, deadline) => this.call(this.raw.ProcessPayments, { payments }, deadline),
      failure: (e) => new RecipientCallError(e.status, e.code, e.message),
      retryAlone: (err) => {
        if (!(err instanceof RecipientCallError)) return false;
        const code = err.status as status;
        if (code === status.UNIMPLEMENTED) return 'always';
        const tooLarge =
          code === status.RESOURCE_EXHAUSTED &&
          err.errorCode === (ProtoErrorCode.MESSAGE_TOO_LARGE as string);
        return tooLarge ? 'once' : false;
      },
    };
  }

  private call<Req, Res>(
    method: Unary<Req, Res>,
    request: Req,
    deadline = Date.now() + this.timeoutMs,
  ): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      method.call(this.raw, request, new Metadata(), { deadline }, (err, response) => {
        if (err) {
          const { code = '' } = readErrorTrailers(err.metadata);
          reject(new RecipientCallError(err.code, code, err.details || err.message));
        } else {
          resolve(response as Res);
        }
      });
    });
  }
}
