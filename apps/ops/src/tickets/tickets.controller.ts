import { Body, Controller, Get, HttpCode, Param, Post, Query, UseFilters, UseGuards } from '@nestjs/common';
import { AllowRecipientSignature, OpsAuthGuard } from '../auth/ops-auth.guard.js';
import { RedeemerOpsClient } from '../clients/redeemer-ops.client.js';
import { OpsHttpFilter } from '../http/ops-http.filter.js';
import { addressParam, pageParams, statusParam, ticketHashParam } from '../http/params.js';
import { OpsError, OpsErrorCode } from '../ops.error.js';
import { TicketReads } from './ticket-reads.service.js';

type Q = string | undefined;

/** Winning tickets (snet-daemon's GetListUnclaimed / GetListInProgress), one ticket, StartClaim. */
@Controller('api/v1')
@UseGuards(OpsAuthGuard)
@UseFilters(OpsHttpFilter)
export class TicketsController {
  constructor(
    private readonly reads: TicketReads,
    private readonly redeemer: RedeemerOpsClient,
  ) {}

  @Get('tickets')
  list(
    @Query('status') status: Q,
    @Query('sender') sender: Q,
    @Query('recipient') recipient: Q,
    @Query('limit') limit: Q,
    @Query('offset') offset: Q,
  ) {
    return this.reads.list(
      {
        statuses: statusParam(status),
        sender: addressParam(sender, 'sender'),
        recipient: addressParam(recipient, 'recipient'),
      },
      pageParams(limit, offset),
    );
  }

  @Get('tickets/:ticketHash')
  get(@Param('ticketHash') ticketHash: string) {
    return this.reads.get(ticketHashParam(ticketHash));
  }

  /** Start a redemption now: body `{"ignoreGasLimits"?: boolean}`. */
  @Post('tickets/:ticketHash/redeem')
  @HttpCode(202)
  @AllowRecipientSignature()
  async redeem(@Param('ticketHash') rawHash: string, @Body() body: unknown) {
    const ticketHash = ticketHashParam(rawHash);
    const b = body === undefined || body === null || body === '' ? {} : body;
    if (typeof b !== 'object' || Array.isArray(b)) {
      throw new OpsError(OpsErrorCode.INVALID_REQUEST, 'the body must be a JSON object');
    }
    const ignore = (b as Record<string, unknown>).ignoreGasLimits;
    if (ignore !== undefined && typeof ignore !== 'boolean') {
      throw new OpsError(OpsErrorCode.INVALID_REQUEST, 'ignoreGasLimits must be a boolean');
    }
    const { job } = await this.redeemer.redeemNow(ticketHash, ignore === true);
    return { ticketHash, job };
  }

  @Get('redemptions')
  history(
    @Query('sender') sender: Q,
    @Query('recipient') recipient: Q,
    @Query('limit') limit: Q,
    @Query('offset') offset: Q,
  ) {
    return this.reads.history(
      { sender: addressParam(sender, 'sender'), recipient: addressParam(recipient, 'recipient') },
      pageParams(limit, offset),
    );
  }
}
