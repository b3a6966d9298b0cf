import { status as GrpcStatus } from '@grpc/grpc-js';
import { Controller, Logger, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { priceInfoCodec, rationalMessage, ticketParamsCodec } from '#app/proto';
import { bytesToHex } from '#app/ticket';
import { Balances } from '../balance/balances.service.js';
import { RecipientMetrics } from '../metrics/recipient.metrics.js';
import { TicketParamsService } from '../params/ticket-params.service.js';
import { PaymentService } from '../payment/payment.service.js';
import { RECIPIENT_ERRORS, RecipientExceptionFilter } from './recipient-exception.filter.js';
import {
  RECIPIENT_GRPC_SERVICE,
  type BalanceRequest,
  type BalanceResponse,
  type DebitRequest,
  type EVResponse,
  type GetTicketParamsRequest,
  type GetTicketParamsResponse,
  type PaymentErrorMessage,
  type PaymentResultMessage,
  type ProcessPaymentRequest,
  type ProcessPaymentResponse,
  type ProcessPaymentsRequest,
  type ProcessPaymentsResponse,
  type TxCostMultiplierRequest,
  type TxCostMultiplierResponse,
} from '#app/clients';
import { readAmount, readBatch, readJobId, readPayment, readPrice, readSender } from './request-decoding.js';

/** `ticketpay.recipient.v1.Recipient`: decode, call one service method, encode. */
@Controller()
@UseFilters(RecipientExceptionFilter)
export class RecipientController {
  private readonly logger = new Logger('Grpc');

  constructor(
    private readonly params: TicketParamsService,
    private readonly payments: PaymentService,
    private readonly balances: Balances,
    private readonly metrics: RecipientMetrics,
  ) {}

  @GrpcMethod(RECIPIENT_GRPC_SERVICE, 'GetTicketParams')
  async getTicketParams(request: GetTicketParamsRequest): Promise<GetTicketParamsResponse> {
    const issued = await this.params.issue(readSender(request.sender), readPrice(request.price));
    return {
      ticketParams: ticketParamsCodec.toMessage(issued.params),
      priceInfo: priceInfoCodec.toMessage(issued.priceInfo),
    };
  }

  @GrpcMethod(RECIPIENT_GRPC_SERVICE, 'ProcessPayment')
  async processPayment(request: ProcessPaymentRequest): Promise<ProcessPaymentResponse> {
    const jobId = readJobId(request.jobId);
    const outcome = await this.payments.process(readPayment(request), jobId);
    return {
      tickets: outcome.tickets.map((t) => ({
        senderNonce: t.senderNonce,
        ticketHash: t.ticketHash,
        won: t.won,
        accepted: t.accepted,
        errorCode: t.error?.code ?? '',
        errorMessage: t.error?.message ?? '',
      })),
      credited: rationalMessage(outcome.credited),
      balance: outcome.balance && rationalMessage(outcome.balance),
      acceptedCount: outcome.acceptedCount,
      winningCount: outcome.winningCount,
    };
  }

  /**
   * Each payment through the same path as ProcessPayment, all at once (one nonce script call per
   * sender records them, their winners' inserts group); answers when every one has settled, so each
   * payment's winners are stored before the answer. A failure is that payment's alone.
   */
  @GrpcMethod(RECIPIENT_GRPC_SERVICE, 'ProcessPayments')
  async processPayments(request: ProcessPaymentsRequest): Promise<ProcessPaymentsResponse> {
    const payments = readBatch(request.payments);
    this.metrics.batchPayments.observe(payments.length);
    const results = await Promise.all(
      payments.map((payment) =>
        this.processPayment(payment).then(
          (response): PaymentResultMessage => ({ response }),
          (err: unknown): PaymentResultMessage => ({ error: this.paymentError(err) }),
        ),
      ),
    );
    return { results };
  }

  @GrpcMethod(RECIPIENT_GRPC_SERVICE, 'Debit')
  async debit(request: DebitRequest): Promise<BalanceResponse> {
    const sender = bytesToHex(readSender(request.sender));
    const balance = await this.balances.debit(
      sender,
      readJobId(request.jobId),
      readAmount(request.amount, 'amount'),
    );
    return { balance: rationalMessage(balance) };
  }

  @GrpcMethod(RECIPIENT_GRPC_SERVICE, 'Balance')
  async balance(request: BalanceRequest): Promise<BalanceResponse> {
    const sender = bytesToHex(readSender(request.sender));
    return { balance: rationalMessage(await this.balances.balance(sender, readJobId(request.jobId))) };
  }

  @GrpcMethod(RECIPIENT_GRPC_SERVICE, 'EV')
  ev(): EVResponse {
    return { ev: rationalMessage(this.params.ev()) };
  }

  @GrpcMethod(RECIPIENT_GRPC_SERVICE, 'TxCostMultiplier')
  async txCostMultiplier(request: TxCostMultiplierRequest): Promise<TxCostMultiplierResponse> {
    return { multiplier: rationalMessage(await this.params.txCostMultiplier(readSender(request.sender))) };
  }

  /** What the exception filter would have answered for a lone ProcessPayment failing with `err`. */
  private paymentError(err: unknown): PaymentErrorMessage {
    const { status, code, domain, message } = RECIPIENT_ERRORS.classify(err);
    if (status === GrpcStatus.INTERNAL) {
      this.logger.error({
        msg: 'gRPC call failed',
        method: 'ProcessPayments',
        error: err instanceof Error ? err.message : String(err),
      });
    }
    return { status, code, domain, message };
  }
}
