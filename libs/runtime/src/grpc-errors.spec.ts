import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ChainError, ChainErrorCode, WatcherError, WatcherErrorCode } from '#app/chain';
import { SenderMonitorError, SenderMonitorErrorCode } from '#app/clients';
import { AppError } from '#app/common';
import { ProtoError, ProtoErrorCode } from '#app/proto';
import { TicketError, TicketErrorCode } from '#app/ticket';
import { GrpcErrorMapper } from './grpc-errors.js';

class ShopError extends AppError<'SOLD_OUT'> {
  readonly domain = 'shop';
}

describe('GrpcErrorMapper', () => {
  const mapper = new GrpcErrorMapper({ shop: { SOLD_OUT: status.RESOURCE_EXHAUSTED } });

  it('maps every code of every library, with the message as details and code and domain in trailers', () => {
    const errors: AppError[] = [
      ...Object.values(TicketErrorCode).map((c) => new TicketError(c, `m ${c}`)),
      ...Object.values(ProtoErrorCode).map((c) => new ProtoError(c, `m ${c}`)),
      ...Object.values(ChainErrorCode).map((c) => new ChainError(c, `m ${c}`)),
      ...Object.values(WatcherErrorCode).map((c) => new WatcherError(c, `m ${c}`)),
      ...Object.values(SenderMonitorErrorCode).map((c) => new SenderMonitorError(c, `m ${c}`)),
    ];
    for (const err of errors) {
      const res = mapper.toResponse(err);
      expect(res.code, err.code).toBeTypeOf('number');
      expect(res.code, err.code).not.toBe(status.UNKNOWN);
      expect(res.details).toBe(err.message);
      expect(res.metadata.get('error-code')).toEqual([err.code]);
      expect(res.metadata.get('error-domain')).toEqual([err.domain]);
    }
  });

  it("uses an app's own table and keeps go-livepeer's statuses", () => {
    expect(mapper.toResponse(new ShopError('SOLD_OUT', 'none left')).code).toBe(status.RESOURCE_EXHAUSTED);
    const monitor = (c: SenderMonitorErrorCode) => mapper.toResponse(new SenderMonitorError(c, '')).code;
    expect(monitor(SenderMonitorErrorCode.UNKNOWN_RECIPIENT)).toBe(status.PERMISSION_DENIED);
    const ticket = mapper.toResponse(new TicketError(TicketErrorCode.PARAMS_EXPIRED, 'TicketParams expired'));
    expect(ticket).toMatchObject({ code: status.FAILED_PRECONDITION, details: 'TicketParams expired' });
  });

  it('lets an app override a library table', () => {
    const client = new GrpcErrorMapper({
      'sender-monitor': { [SenderMonitorErrorCode.UNKNOWN_RECIPIENT]: status.FAILED_PRECONDITION },
    });
    expect(client.toResponse(new SenderMonitorError(SenderMonitorErrorCode.UNKNOWN_RECIPIENT, '')).code).toBe(
      status.FAILED_PRECONDITION,
    );
  });

  it('answers anything unexpected INTERNAL without its message', () => {
    for (const err of [
      new Error('postgres://user:hunter2@db failed'),
      'boom',
      new ShopError('SOLD_OUT', 'x'),
    ]) {
      const res = new GrpcErrorMapper({}).toResponse(err);
      expect(res.code).toBe(status.INTERNAL);
      expect(res.details).toBe('internal error');
      expect(res.metadata.get('error-code')).toEqual(['INTERNAL']);
      expect(JSON.stringify(res)).not.toContain('hunter2');
    }
  });
});
