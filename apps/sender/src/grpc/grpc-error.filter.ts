import { Catch, Injectable } from '@nestjs/common';
import { GrpcErrorMapper, GrpcExceptionFilter, type ClassifiedError } from '#app/runtime';
import { SenderMetrics } from '../metrics/sender.metrics.js';
import { SENDER_ERROR_STATUS } from './grpc-status.js';

const MAPPER = new GrpcErrorMapper({ sender: SENDER_ERROR_STATUS });

/** The one exception filter of the Sender's gRPC transport: coded errors → status + code trailers. */
@Catch()
@Injectable()
export class SenderGrpcErrorFilter extends GrpcExceptionFilter {
  constructor(private readonly metrics: SenderMetrics) {
    super(MAPPER);
  }

  protected override onError(error: ClassifiedError, method: string): void {
    this.metrics.error(method, error.domain, error.code);
  }
}
