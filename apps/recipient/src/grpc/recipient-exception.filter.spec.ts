import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { TicketError, TicketErrorCode } from '#app/ticket';
import { RecipientError, RecipientErrorCode } from '../recipient.error.js';
import { ERROR_CODE_KEY, ERROR_DOMAIN_KEY } from './error-trailers.js';
import { toGrpcError } from './recipient-exception.filter.js';

describe('toGrpcError', () => {
  it('maps every ticket and recipient code to a status and puts the code in the trailers', () => {
    for (const code of Object.values(TicketErrorCode)) {
      const mapped = toGrpcError(new TicketError(code, 'm'));
      expect(mapped.code).not.toBe(status.UNKNOWN);
      expect(mapped.metadata.get(ERROR_CODE_KEY)).toEqual([code]);
      expect(mapped.metadata.get(ERROR_DOMAIN_KEY)).toEqual(['ticket']);
    }
    for (const code of Object.values(RecipientErrorCode)) {
      expect(toGrpcError(new RecipientError(code, 'm')).metadata.get(ERROR_CODE_KEY)).toEqual([code]);
    }
    expect(
      toGrpcError(new TicketError(TicketErrorCode.PARAMS_EXPIRED, 'TicketParams expired')),
    ).toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: 'TicketParams expired',
    });
  });

  it('answers anything unexpected with INTERNAL and no details', () => {
    const mapped = toGrpcError(new Error('connect to postgres://user:hunter2@db failed'));
    expect(mapped.code).toBe(status.INTERNAL);
    expect(mapped.details).toBe('internal error');
    expect(mapped.metadata.get(ERROR_CODE_KEY)).toEqual(['INTERNAL']);
  });
});
