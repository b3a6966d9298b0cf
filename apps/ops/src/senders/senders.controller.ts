import { Controller, Get, Param, Query, UseFilters, UseGuards } from '@nestjs/common';
import { OpsAuthGuard } from '../auth/ops-auth.guard.js';
import { OpsHttpFilter } from '../http/ops-http.filter.js';
import { addressParam, pageParams } from '../http/params.js';
import { SenderReads } from './sender-reads.service.js';

/** Senders with deposit, reserve, max float and validity (from the SenderMonitor over gRPC). */
@Controller('api/v1')
@UseGuards(OpsAuthGuard)
@UseFilters(OpsHttpFilter)
export class SendersController {
  constructor(private readonly senders: SenderReads) {}

  @Get('senders')
  list(@Query('limit') limit: string | undefined, @Query('offset') offset: string | undefined) {
    return this.senders.list(pageParams(limit, offset, 20));
  }

  @Get('senders/:address')
  get(@Param('address') address: string) {
    return this.senders.get(addressParam(address, 'address')!);
  }
}
