import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';

/** Enough of a statement to find it in the code; statements carry values only as parameters. */
const MAX_QUERY_CHARS = 300;

/**
 * Postgres quotes a rejected input value in some messages (`invalid input syntax for type numeric:
 * "…"`): long quoted text (identifiers are at most 63 characters), long hex and long digit runs
 * are cut out, since a parameter may be a secret.
 */
export function redactValues(message: string): string {
  return message
    .replace(/"[^"]{64,}"/g, '"[redacted]"')
    .replace(/0x[0-9a-fA-F]{16,}/g, '[redacted]')
    .replace(/[0-9a-fA-F]{32,}/g, '[redacted]')
    .replace(/\d{20,}/g, '[redacted]');
}

/**
 * Marks a statement whose caller runs it again when it fails only through another session's
 * writes (a deadlock, or a unique violation a concurrent insert caused): such a failure is
 * expected under concurrency and logged at debug level; the caller reports one that persists.
 */
export const RETRIED_ON_CONFLICT = '/* retried on conflict */';
const CONFLICT_CODES = new Set(['40P01', '23505']);

/**
 * TypeORM's own error logging prints a failed statement's parameters, and those hold secrets
 * (a winning ticket's recipientRand and signature). This logger reports a failure by its SQL text,
 * Postgres error code and message (values cut out) only: never a parameter, never the error's
 * `detail` (Postgres puts the failing row's values there).
 */
export class ParameterFreeQueryLogger implements TypeOrmLogger {
  private readonly logger = new NestLogger('Database');

  logQueryError(error: string | Error, query: string): void {
    const err = typeof error === 'string' ? { message: error } : (error as Error & { code?: string });
    const code = 'code' in err ? err.code : undefined;
    const retried = code !== undefined && CONFLICT_CODES.has(code) && query.startsWith(RETRIED_ON_CONFLICT);
    const entry = {
      msg: retried ? 'query failed on a concurrent write, to be run again' : 'query failed',
      code,
      error: redactValues(err.message),
      query: query.length > MAX_QUERY_CHARS ? `${query.slice(0, MAX_QUERY_CHARS)}…` : query,
    };
    if (retried) this.logger.debug(entry);
    else this.logger.error(entry);
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ msg: 'slow query', ms: time, query: query.slice(0, MAX_QUERY_CHARS) });
  }

  logMigration(message: string): void {
    this.logger.log(message);
  }

  // Statement-by-statement and schema-build logging are off (logging: ['error']).
  logQuery(): void {}
  logSchemaBuild(): void {}
  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(message);
  }
}
