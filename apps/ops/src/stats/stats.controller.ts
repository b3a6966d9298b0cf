import { Controller, Get, Query, UseFilters, UseGuards } from '@nestjs/common';
import { OpsAuthGuard } from '../auth/ops-auth.guard.js';
import { OpsHttpFilter } from '../http/ops-http.filter.js';
import { addressParam, pageParams, windowParams } from '../http/params.js';
import { StatsService } from './stats.service.js';

type Q = string | undefined;

/** Totals, charts' time series, queue depth and recent failures. */
@Controller('api/v1')
@UseGuards(OpsAuthGuard)
@UseFilters(OpsHttpFilter)
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @Get('totals')
  totals(@Query('recipient') recipient: Q) {
    return this.stats.totals(addressParam(recipient, 'recipient'));
  }

  @Get('timeseries')
  timeseries(@Query('window') window: Q, @Query('bucket') bucket: Q, @Query('recipient') recipient: Q) {
    const w = windowParams(window, bucket);
    return this.stats.timeseries(w.windowSeconds, w.bucketSeconds, addressParam(recipient, 'recipient'));
  }

  @Get('queue')
  queue() {
    return this.stats.queueDepth();
  }

  @Get('failures')
  failures(@Query('window') window: Q, @Query('limit') limit: Q) {
    const w = windowParams(window ?? '86400', '86400');
    return this.stats.failures(w.windowSeconds, pageParams(limit, undefined, 20).limit);
  }
}
