import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ParameterFreeQueryLogger, RETRIED_ON_CONFLICT } from './query-logger.js';

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('ParameterFreeQueryLogger', () => {
  afterEach(() => vi.restoreAllMocks());

  function spies() {
    return {
      error: vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined),
      debug: vi.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined),
    };
  }

  it('logs a failed statement at error level, without the values the message quotes', () => {
    const { error, debug } = spies();
    const secret = 'ab'.repeat(32);
    new ParameterFreeQueryLogger().logQueryError(
      pgError('22P02', `invalid input syntax for type numeric: "${secret}"`),
      'INSERT INTO t VALUES ($1)',
    );
    expect(debug).not.toHaveBeenCalled();
    expect(error).toHaveBeenCalledTimes(1);
    const logged = JSON.stringify(error.mock.calls[0]);
    expect(logged).toContain('22P02');
    expect(logged).not.toContain(secret);
  });

  it('logs a conflict of a statement its caller runs again at debug level', () => {
    const { error, debug } = spies();
    const logger = new ParameterFreeQueryLogger();
    logger.logQueryError(pgError('40P01', 'deadlock detected'), `${RETRIED_ON_CONFLICT} INSERT INTO t`);
    logger.logQueryError(pgError('23505', 'duplicate key'), `${RETRIED_ON_CONFLICT} INSERT INTO t`);
    expect(error).not.toHaveBeenCalled();
    expect(debug).toHaveBeenCalledTimes(2);
  });

  it('still logs at error level any other failure of such a statement, and a conflict of an untagged one', () => {
    const { error, debug } = spies();
    const logger = new ParameterFreeQueryLogger();
    logger.logQueryError(pgError('23502', 'null value'), `${RETRIED_ON_CONFLICT} INSERT INTO t`);
    logger.logQueryError(pgError('40P01', 'deadlock detected'), 'UPDATE t SET x = 1');
    expect(debug).not.toHaveBeenCalled();
    expect(error).toHaveBeenCalledTimes(2);
  });
});
