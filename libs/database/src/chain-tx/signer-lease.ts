import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type QueryRunner } from 'typeorm';

/** Namespace of the lease among Postgres advisory locks (the first key of the two-key form). */
const LEASE_CLASS = 7_460_130;
const RETRY_MS = 2_000;
const WATCH_MS = 5_000;

/**
 * "One submitter per signer" across processes: a session-level Postgres advisory lock on the
 * signer's address, held on a dedicated connection for as long as this process sends with it. A
 * second Redeemer with the same key stands by until the first one stops or dies (the lock goes
 * with its connection, so `kill -9` frees it too).
 */
@Injectable()
export class SignerLease {
  private readonly logger = new Logger(SignerLease.name);
  private runner?: QueryRunner;
  private watchdog?: NodeJS.Timeout;
  private key = '';

  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  get held(): boolean {
    return this.runner !== undefined;
  }

  /**
   * Resolves true once the lease is held, or false if `shouldStop` turned true first.
   * `onLost` is called if the lease's connection fails later.
   */
  async acquire(signer: string, shouldStop: () => boolean, onLost: () => void): Promise<boolean> {
    this.key = `redeemer-signer:${signer.toLowerCase()}`;
    let told = false;
    while (!shouldStop()) {
      const runner = this.ds.createQueryRunner();
      try {
        await runner.connect();
        const rows = (await runner.query('SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked', [
          LEASE_CLASS,
          this.key,
        ])) as { locked: boolean }[];
        if (rows[0]?.locked) {
          this.runner = runner;
          this.watch(onLost);
          this.logger.log({ msg: 'signer lease acquired', signer });
          return true;
        }
        if (!told) this.logger.warn({ msg: 'another redeemer holds this signer; standing by', signer });
        told = true;
      } catch (err) {
        this.logger.warn({ msg: 'signer lease not acquired', error: (err as Error).message });
      }
      await runner.release().catch(() => undefined);
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
    return false;
  }

  async release(): Promise<void> {
    clearInterval(this.watchdog);
    const runner = this.runner;
    this.runner = undefined;
    if (!runner) return;
    await runner
      .query('SELECT pg_advisory_unlock($1, hashtext($2))', [LEASE_CLASS, this.key])
      .catch(() => undefined);
    await runner.release().catch(() => undefined);
  }

  private watch(onLost: () => void): void {
    this.watchdog = setInterval(() => {
      const runner = this.runner;
      if (!runner) return;
      runner.query('SELECT 1').catch((err: unknown) => {
        this.logger.error({ msg: 'signer lease lost', error: (err as Error).message });
        clearInterval(this.watchdog);
        this.runner = undefined;
        void runner.release().catch(() => undefined);
        onLost();
      });
    }, WATCH_MS);
    this.watchdog.unref();
  }
}
