import { Catch, Injectable } from '@nestjs/common';
import { GrpcErrorMapper, GrpcExceptionFilter, type ClassifiedError } from '#app/runtime';
import { SenderMonitorMetrics } from '../metrics/sender-monitor.metrics.js';

/** Every code the SenderMonitor answers with is a library code, mapped in #app/runtime. */
export const SENDER_MONITOR_ERRORS = new GrpcErrorMapper({});

/** The SenderMonitor's one gRPC exception filter (both services). */
@Catch()
@Injectable()
export class SenderMonitorExceptionFilter extends GrpcExceptionFilter {
  constructor(private readonly metrics: SenderMonitorMetrics) {
    super(SENDER_MONITOR_ERRORS);
  }

  protected override onError(error: ClassifiedError): void {
    this.metrics.errors.inc({ code: error.code });
  }
}
