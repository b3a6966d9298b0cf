import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { SenderMonitorError, SenderMonitorErrorCode, WatcherError, WatcherErrorCode } from '#app/chain';
import { ProtoError, ProtoErrorCode } from '#app/proto';
import { TicketError, TicketErrorCode } from '#app/ticket';
import { toGrpcError } from './grpc-errors.js';

describe('toGrpcError', () => {
  it('maps every code of every library to a status, with the code and domain in the trailers', () => {
    const errors = [
      ...Object.values(SenderMonitorErrorCode).map((c) => new SenderMonitorError(c, c)),
      ...Object.values(TicketErrorCode).map((c) => new TicketError(c, c)),
      ...Object.values(ProtoErrorCode).map((c) => new ProtoError(c, c)),
      ...Object.values(WatcherErrorCode).map((c) => new WatcherError(c, c)),
    ];
    for (const err of errors) {
      const res = toGrpcError(err);
      expect(res.code, err.code).toBeTypeOf('number');
      expect(res.details).toBe(err.message);
      expect(res.metadata.get('error-code')).toEqual([err.code]);
      expect(res.metadata.get('error-domain')).toEqual([err.domain]);
    }
  });

  it("keeps go-livepeer's statuses for the Redeemer API", () => {
    const code = (c: SenderMonitorErrorCode) => toGrpcError(new SenderMonitorError(c, '')).code;
    expect(code(SenderMonitorErrorCode.UNKNOWN_RECIPIENT)).toBe(status.PERMISSION_DENIED);
    expect(code(SenderMonitorErrorCode.STORE_FAILED)).toBe(status.INTERNAL);
    expect(code(SenderMonitorErrorCode.CHAIN_UNAVAILABLE)).toBe(status.UNAVAILABLE);
  });

  it('answers anything unexpected INTERNAL without its message', () => {
    const res = toGrpcError(new Error('postgres://user:hunter2@db failed'));
    expect(res.code).toBe(status.INTERNAL);
    expect(res.details).toBe('internal error');
    expect(JSON.stringify(res)).not.toContain('hunter2');
  });
});
