import {
  credentials,
  loadPackageDefinition,
  Metadata,
  type Client,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ERROR_CODE_TRAILER } from '../sender-monitor/sender-monitor.error.js';
import type {
  BalanceRequest,
  BalanceResponse,
  DebitRequest,
  EVResponse,
  GetTicketParamsRequest,
  GetTicketParamsResponse,
  ProcessPaymentRequest,
  ProcessPaymentResponse,
  TxCostMultiplierRequest,
  TxCostMultiplierResponse,
} from './recipient.messages.js';
import { RECIPIENT_GRPC } from './recipient.proto-paths.js';

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
  Debit: Unary<DebitRequest, BalanceResponse>;
  Balance: Unary<BalanceRequest, BalanceResponse>;
  EV: Unary<Record<string, never>, EVResponse>;
  TxCostMultiplier: Unary<TxCostMultiplierRequest, TxCostMultiplierResponse>;
};

let constructorCache: ServiceClientConstructor | undefined;

function serviceConstructor(): ServiceClientConstructor {
  if (!constructorCache) {
    const definition = loadSync(RECIPIENT_GRPC.protoPaths, {
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
      includeDirs: RECIPIENT_GRPC.includeDirs,
    });
    const pkg = loadPackageDefinition(definition) as unknown as {
      ticketpay: { recipient: { v1: { Recipient: ServiceClientConstructor } } };
    };
    constructorCache = pkg.ticketpay.recipient.v1.Recipient;
  }
  return constructorCache;
}

/** A promise-based client of `ticketpay.recipient.v1.Recipient` (orchestrator side, tests, benchmarks). */
export class RecipientClient {
  private readonly raw: RawClient;

  constructor(
    target: string,
    private readonly timeoutMs = 10_000,
  ) {
    const Ctor = serviceConstructor();
    this.raw = new Ctor(target, credentials.createInsecure()) as unknown as RawClient;
  }

  getTicketParams(request: GetTicketParamsRequest): Promise<GetTicketParamsResponse> {
    return this.call(this.raw.GetTicketParams, request);
  }

  processPayment(request: ProcessPaymentRequest): Promise<ProcessPaymentResponse> {
    return this.call(this.raw.ProcessPayment, request);
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

  private call<Req, Res>(method: Unary<Req, Res>, request: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      method.call(
        this.raw,
        request,
        new Metadata(),
        { deadline: Date.now() + this.timeoutMs },
        (err, response) => {
          if (err) {
            const code = err.metadata?.get(ERROR_CODE_TRAILER)[0];
            reject(
              new RecipientCallError(
                err.code,
                typeof code === 'string' ? code : '',
                err.details || err.message,
              ),
            );
          } else {
            resolve(response as Res);
          }
        },
      );
    });
  }
}
