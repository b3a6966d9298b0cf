import type {
  PaymentMessage,
  PriceInfoMessage,
  RationalMessage,
  TicketParamsMessage,
  WireBytes,
} from '#app/proto';

// Plain objects as @grpc/proto-loader hands them over (camelCase, bytes as Buffer, int64 as
// string, defaults filled in, `form` naming the oneof member that is set).

export interface GetTicketParamsRequest {
  sender?: WireBytes;
  price?: PriceInfoMessage | null;
}

export interface GetTicketParamsResponse {
  ticketParams: TicketParamsMessage;
  priceInfo: PriceInfoMessage;
}

export interface ProcessPaymentRequest {
  form?: 'payment' | 'paymentHeader';
  payment?: PaymentMessage | null;
  paymentHeader?: string;
  jobId?: string;
}

export interface TicketOutcomeMessage {
  senderNonce: number;
  ticketHash: Uint8Array;
  won: boolean;
  accepted: boolean;
  errorCode: string;
  errorMessage: string;
}

export interface ProcessPaymentResponse {
  tickets: TicketOutcomeMessage[];
  credited: RationalMessage;
  /** Absent when Redis could not tell it after the payment was recorded (the payment stands). */
  balance?: RationalMessage;
  acceptedCount: number;
  winningCount: number;
}

/** Payments one ProcessPayments call may carry; a longer batch is refused whole (INVALID_REQUEST). */
export const MAX_PAYMENTS_PER_BATCH = 256;

export interface ProcessPaymentsRequest {
  payments?: ProcessPaymentRequest[];
}

/** What ProcessPayment would have failed with: gRPC status, `error-code`, `error-domain`, details. */
export interface PaymentErrorMessage {
  status: number;
  code: string;
  domain: string;
  message: string;
}

export type PaymentResultMessage =
  | { result?: 'response'; response: ProcessPaymentResponse; error?: null }
  | { result?: 'error'; response?: null; error: PaymentErrorMessage };

export interface ProcessPaymentsResponse {
  /** One per request payment, in request order. */
  results: PaymentResultMessage[];
}

export interface DebitRequest {
  sender?: WireBytes;
  jobId?: string;
  amount?: RationalMessage | null;
}

export interface BalanceRequest {
  sender?: WireBytes;
  jobId?: string;
}

export interface BalanceResponse {
  balance: RationalMessage;
}

export interface EVResponse {
  ev: RationalMessage;
}

export interface TxCostMultiplierRequest {
  sender?: WireBytes;
}

export interface TxCostMultiplierResponse {
  multiplier: RationalMessage;
}
