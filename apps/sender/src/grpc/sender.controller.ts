import type { Metadata } from '@grpc/grpc-js';
import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { ApiClients } from '../auth/api-clients.js';
import { SenderService } from '../session/sender.service.js';
import { SenderGrpcErrorFilter } from './grpc-error.filter.js';
import { rationalMessage } from '#app/proto';
import {
  createTicketBatchResponse,
  sendersResponse,
  startSessionResponse,
  toStartSessionInput,
  type CreateTicketBatchRequestMessage,
  type SessionRequestMessage,
  type StartSessionRequestMessage,
} from './messages.js';

/** `ticketpay.sender.v1.Sender`: authenticate, decode, call the service, encode. */
@Controller()
@UseFilters(SenderGrpcErrorFilter)
export class SenderGrpcController {
  constructor(
    private readonly clients: ApiClients,
    private readonly sender: SenderService,
  ) {}

  @GrpcMethod('Sender', 'StartSession')
  async startSession(req: StartSessionRequestMessage, metadata: Metadata) {
    const client = this.clients.authenticate(metadata);
    return startSessionResponse(await this.sender.startSession(client, toStartSessionInput(req)));
  }

  @GrpcMethod('Sender', 'CreateTicketBatch')
  async createTicketBatch(req: CreateTicketBatchRequestMessage, metadata: Metadata) {
    const client = this.clients.authenticate(metadata);
    return createTicketBatchResponse(
      await this.sender.createTicketBatch(client, req?.sessionId, req?.size ?? 0),
    );
  }

  @GrpcMethod('Sender', 'EV')
  async ev(req: SessionRequestMessage, metadata: Metadata) {
    const client = this.clients.authenticate(metadata);
    return { ev: rationalMessage(await this.sender.ev(client, req?.sessionId)) };
  }

  @GrpcMethod('Sender', 'EndSession')
  async endSession(req: SessionRequestMessage, metadata: Metadata) {
    const client = this.clients.authenticate(metadata);
    return { ended: await this.sender.endSession(client, req?.sessionId) };
  }

  @GrpcMethod('Sender', 'Senders')
  async senders(_req: unknown, metadata: Metadata) {
    const client = this.clients.authenticate(metadata);
    return sendersResponse(await this.sender.senders(client));
  }
}
