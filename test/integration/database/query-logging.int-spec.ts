import { randomBytes } from 'node:crypto';
import { Logger, type LoggerService } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDataSource } from '#app/database';

/** Every line the Nest logger was given, as text. */
class CollectingLogger implements LoggerService {
  readonly lines: string[] = [];
  log = (m: unknown) => this.keep(m);
  error = (m: unknown) => this.keep(m);
  warn = (m: unknown) => this.keep(m);
  debug = (m: unknown) => this.keep(m);
  verbose = (m: unknown) => this.keep(m);
  private keep(m: unknown): void {
    this.lines.push(typeof m === 'string' ? m : JSON.stringify(m));
  }
}

describe('a failed statement is logged without its parameters', () => {
  let ds: DataSource;
  const logs = new CollectingLogger();

  beforeAll(async () => {
    ds = await createDataSource(inject('databaseUrl')).initialize();
    Logger.overrideLogger(logs);
  });

  afterAll(async () => {
    Logger.overrideLogger(new Logger());
    await ds.destroy();
  });

  it('names the statement and the error, never a parameter, the failing row or a quoted value', async () => {
    const secret = BigInt(`0x${randomBytes(32).toString('hex')}`).toString();
    const hexSecret = `0x${randomBytes(32).toString('hex')}`;
    // A NOT NULL violation: Postgres puts the failing row (the secret) in the error's detail.
    await expect(
      ds.query(`INSERT INTO winning_ticket (ticket_hash, recipient_rand) VALUES ($1, $2)`, [
        `0x${randomBytes(32).toString('hex')}`,
        secret,
      ]),
    ).rejects.toThrow();
    // An invalid input: Postgres quotes the value in the message itself.
    await expect(ds.query(`SELECT $1::numeric`, [hexSecret])).rejects.toThrow(hexSecret);

    const failures = logs.lines.filter((l) => l.includes('query failed'));
    expect(failures).toHaveLength(2);
    expect(failures[0]).toContain('INSERT INTO winning_ticket');
    expect(failures[0]).toContain('23502');
    expect(failures[1]).toContain('22P02');
    for (const line of logs.lines) {
      expect(line).not.toContain(secret);
      expect(line).not.toContain(hexSecret.slice(2, 34));
    }
  });
});
