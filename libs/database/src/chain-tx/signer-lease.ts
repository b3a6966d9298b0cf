import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type QueryRunner } from 'typeorm';

/** Namespace of the lease among Postgres advisory locks (the first key of the two-key form). */
const LEASE_CLASS = 7_460_130;
/** Namespace of the recipient leases (same two-key form). */
const RECIPIENT_CLASS = 7_460_131;
/** Namespace of the sender-funds locks (same two-key form). */
const SENDER_CLASS = 7_460_132;
const RETRY_MS = 2_000;
/** Postgres' SQLSTATE for a lock wait cut short by lock_timeout. */
const LOCK_NOT_AVAILABLE = '55P03';
const WATCH_MS = 5_000;

/**
 * "One submitter per signer" across processes: a session-level Postgres advisory lock on the
 * signer's address, held on a dedicated connection for as long as this process sends with it. A
 * second Redeemer with the same key stands by until the first one stops or dies (the lock goes
 * with its connection, so `kill -9` frees it too).
 *
 * On the same connection, "one Redeemer per recipient" across signers (leaseRecipients): two
 * signers serving one recipient would each count the senders' whole funds for their own txs and
 * race for its tickets. The recipient leases go with the signer lease: lost or released together.
 */
@Injectable()
export class SignerLease {
  private readonly logger = new Logger(SignerLease.name);
  private runner?: QueryRunner;
  private watchdog?: NodeJS.Timeout;
  private key = '';
  private signer = '';
  /** Recipients leased on the connection (lowercase), 'any' for all, or undefined for none yet. */
  private recipients?: readonly string[] | 'any';
  /** The lock_timeout set on a lease connection for the funds locks (0: none), per connection. */
  private lockTimeout?: { runner: QueryRunner; ms: number };

  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  get held(): boolean {
    return this.runner !== undefined;
  }

  /**
   * Resolves true once the lease is held, or false if `shouldStop` turned true first.
   * `onLost` is called if the lease's connection fails later.
   */
  async acquire(signer: string, shouldStop: () => boolean, onLost: () => void): Promise<boolean> {
    this.signer = signer.toLowerCase();
    this.key = signerKey(this.signer);
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
          // Names this Redeemer to another one that finds a recipient taken (see holders()).
          await runner.query("SELECT set_config('application_name', $1, false)", [
            `${HOLDER_PREFIX}${this.signer}`,
          ]);
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

  /**
   * Leases `recipients` (undefined = every recipient) on `chainId` for this signer, all or none,
   * without waiting: resolves with what another Redeemer holds (empty = all leased, or already
   * were). A list takes each recipient exclusively plus the chain's "all recipients" key shared;
   * `*` takes that key exclusively. So two lists conflict only where they overlap, and `*`
   * conflicts with any other Redeemer on the chain. Keys are 32-bit hashes: a collision of two
   * recipients would refuse a Redeemer (the safe side), never let two serve one. Needs the signer lease.
   */
  async leaseRecipients(
    chainId: bigint,
    recipients: readonly string[] | undefined,
  ): Promise<RecipientConflict[]> {
    const runner = this.runner;
    if (!runner) throw new Error('the signer lease is not held');
    if (this.recipients) return [];
    const all = allKey(chainId);
    const keys = (recipients ?? []).map((r) => recipientKey(chainId, r));
    const rows = (await runner.query(
      `SELECT $2::text AS key, CASE WHEN $3 THEN pg_try_advisory_lock_shared($1, hashtext($2))
                                    ELSE pg_try_advisory_lock($1, hashtext($2)) END AS locked
       UNION ALL
       SELECT k, pg_try_advisory_lock($1, hashtext(k)) FROM unnest($4::text[]) AS k`,
      [RECIPIENT_CLASS, all, recipients !== undefined, keys],
    )) as { key: string; locked: boolean }[];
    const refused = rows.filter((r) => !r.locked).map((r) => r.key);
    if (refused.length === 0) {
      this.recipients = recipients ?? 'any';
      return [];
    }
    // All or none: what was taken goes back (try-locks never wait, so no deadlock either way).
    const taken = rows.filter((r) => r.locked).map((r) => r.key);
    await runner.query(
      `SELECT CASE WHEN k <> $2 THEN pg_advisory_unlock($1, hashtext(k))
                   WHEN $3 THEN pg_advisory_unlock_shared($1, hashtext(k))
                   ELSE pg_advisory_unlock($1, hashtext(k)) END
       FROM unnest($4::text[]) AS k`,
      [RECIPIENT_CLASS, all, recipients !== undefined, taken],
    );
    return Promise.all(
      refused.map(async (key) => ({
        recipient: key === all ? '*' : key.slice(key.lastIndexOf(':') + 1),
        holders: await this.holders(runner, key),
      })),
    );
  }

  /**
   * Whether a Redeemer holds `signer`'s lease now (on any connection, this one's included). A
   * read of pg_locks, not a try-lock, so a Redeemer coming back for the signer is never kept out:
   * what a caller does while the answer is false must be safe alongside that signer's Redeemer.
   */
  async live(signer: string): Promise<boolean> {
    const rows = await this.ds.query<{ live: boolean }[]>(
      `SELECT EXISTS (SELECT 1 FROM pg_locks l WHERE ${HELD_ADVISORY_LOCK}) AS live`,
      [LEASE_CLASS, signerKey(signer)],
    );
    return rows[0]?.live === true;
  }

  /**
   * Runs `work` (a funds check and the claim of what it funded) holding the funds lock of each of
   * `senders` on `chainId`: a sender's deposit and reserve are shared by all its recipients, so two
   * Redeemers checking one sender at once would each count funds the other is about to claim, and
   * one tx would pay short. `work` must commit its claim through `commit` before it resolves: the
   * next holder's check then reads it (WinningTicketRepository.inTx). One round trip on the lease's
   * connection (all senders in one statement, in key order: two Redeemers never deadlock); the
   * unlock is not awaited (it goes before this connection's next statement). Never hold it across a
   * send. Needs the signer lease.
   *
   * With `maxCheckMs`, the check is bounded: a check stuck on a chain read (an RPC that does not
   * answer) would hold every other Redeemer of these senders until the RPC's own timeout. When it
   * has not reached `commit` by then, the locks are released and the call rejects with
   * SenderFundsTimeout; the check goes on unheld, and its `commit` then refuses to run (nothing
   * is claimed without the locks). A claim under way when the time runs out is waited for (the
   * Redeemer bounds its wait for rows the same: WinningTicketRepository.claimAll). The
   * wait for the locks is bounded the same (Postgres' lock_timeout): another Redeemer that holds
   * them and stops answering (frozen, its session still open) makes this check reject with
   * SenderFundsTimeout instead of halting every check after it, which run one at a time.
   */
  async withSenderFunds<T>(
    chainId: bigint,
    senders: readonly string[],
    work: (commit: FundsCommit) => Promise<T>,
    maxCheckMs?: number,
  ): Promise<T> {
    const runner = this.runner;
    if (!runner) throw new Error('the signer lease is not held');
    const keys = [...new Set(senders.map((s) => senderKey(chainId, s)))];
    let phase: 'checking' | 'claiming' | 'expired' = 'checking';
    const commit: FundsCommit = (claim) => {
      if (phase === 'expired') {
        return Promise.reject(
          new SenderFundsTimeout(`funds check of ${keys.length} sender(s) ran out of time`),
        );
      }
      phase = 'claiming';
      return claim();
    };
    if (keys.length === 0) return work(commit);
    let timer: NodeJS.Timeout | undefined;
    try {
      await this.lockSenders(runner, keys, maxCheckMs ?? 0);
      const checked = work(commit);
      if (maxCheckMs === undefined) return await checked;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          if (phase !== 'checking') return;
          phase = 'expired';
          this.logger.warn({
            msg: 'sender funds check took too long (a chain read not answering?): its funds locks released, its tickets are tried again later',
            chainId: chainId.toString(),
            senders: [...new Set(senders.map((s) => s.toLowerCase()))],
            maxCheckMs,
          });
          reject(new SenderFundsTimeout(`funds check still running after ${maxCheckMs} ms: locks released`));
        }, maxCheckMs);
      });
      // The check left behind settles on its own; its refusal to claim is nobody's error.
      checked.catch(() => undefined);
      return await Promise.race([checked, expired]);
    } finally {
      clearTimeout(timer);
      // Also after a lock wait that timed out: the locks taken before it stay with the session.
      // Fails only with the connection, which takes the locks along.
      void runner
        .query(
          'SELECT pg_advisory_unlock($1, h) FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k) s',
          [SENDER_CLASS, keys],
        )
        .catch(() => undefined);
    }
  }

  /** Takes the funds locks of `keys` in key order, waiting at most `maxWaitMs` (0: no bound). */
  private async lockSenders(runner: QueryRunner, keys: readonly string[], maxWaitMs: number): Promise<void> {
    if (this.lockTimeout?.runner !== runner || this.lockTimeout.ms !== maxWaitMs) {
      await runner.query("SELECT set_config('lock_timeout', $1, false)", [`${maxWaitMs}ms`]);
      this.lockTimeout = { runner, ms: maxWaitMs };
    }
    try {
      await runner.query(
        `SELECT pg_advisory_lock($1, h) FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k ORDER BY h) s`,
        [SENDER_CLASS, keys],
      );
    } catch (err) {
      if (!isLockTimeout(err)) throw err;
      this.logger.warn({
        msg: 'sender funds locks held by another Redeemer for too long (is it frozen?): its tickets are tried again later',
        senders: keys.length,
        maxWaitMs,
      });
      throw new SenderFundsTimeout(`funds locks of ${keys.length} sender(s) not free within ${maxWaitMs} ms`);
    }
  }

  async release(): Promise<void> {
    clearInterval(this.watchdog);
    const runner = this.runner;
    this.runner = undefined;
    this.recipients = undefined;
    if (!runner) return;
    // The signer lease and every recipient lease; the connection goes back to the pool.
    await runner
      .query('SELECT pg_advisory_unlock_all(), set_config($1, $2, false)', ['application_name', ''])
      .catch(() => undefined);
    await runner.release().catch(() => undefined);
  }

  /** Signers of the Redeemers holding `key` (best effort: for the operator's log). */
  private async holders(runner: QueryRunner, key: string): Promise<string[]> {
    const rows = (await runner
      .query(
        `SELECT DISTINCT a.application_name AS name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE ${HELD_ADVISORY_LOCK} AND l.pid <> pg_backend_pid()`,
        [RECIPIENT_CLASS, key],
      )
      .catch(() => [])) as { name: string }[];
    return rows
      .map((r) => r.name)
      .filter((n) => n.startsWith(HOLDER_PREFIX))
      .map((n) => n.slice(HOLDER_PREFIX.length))
      .sort();
  }

  private watch(onLost: () => void): void {
    this.watchdog = setInterval(() => {
      const runner = this.runner;
      if (!runner) return;
      runner.query('SELECT 1').catch((err: unknown) => {
        this.logger.error({ msg: 'signer lease lost', error: (err as Error).message });
        clearInterval(this.watchdog);
        this.runner = undefined;
        this.recipients = undefined;
        void runner.release().catch(() => undefined);
        onLost();
      });
    }, WATCH_MS);
    this.watchdog.unref();
  }
}

/** Whether `err` is Postgres' lock wait cut short by lock_timeout. */
export function isLockTimeout(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } } | null;
  return (e?.code ?? e?.driverError?.code) === LOCK_NOT_AVAILABLE;
}

/** Runs a claim under the funds locks (SignerLease.withSenderFunds), unless the check ran out of time. */
export type FundsCommit = <R>(claim: () => Promise<R>) => Promise<R>;

/**
 * A sender funds check that did not reach its claim in time, or whose claim waited too long for
 * its rows: its locks were released, nothing claimed.
 */
export class SenderFundsTimeout extends Error {
  override readonly name = 'SenderFundsTimeout';
}

/** A recipient (or `*`, every recipient) that another Redeemer serves. */
export interface RecipientConflict {
  recipient: string;
  /** Signers of the Redeemers holding it, when Postgres tells (may be empty). */
  holders: string[];
}

/**
 * Whether a Redeemer serves `recipient` on `chainId` now: one holds its recipient lease, or the
 * chain's "all recipients" key exclusively (leaseRecipients). A read of pg_locks, for the services
 * that store winners for that recipient: nothing else tells them no Redeemer redeems them.
 */
export async function recipientServed(ds: DataSource, chainId: bigint, recipient: string): Promise<boolean> {
  const rows = await ds.query<{ served: boolean }[]>(
    `SELECT EXISTS (SELECT 1 FROM pg_locks l WHERE ${HELD_ADVISORY_LOCK})
         OR EXISTS (SELECT 1 FROM pg_locks l WHERE ${heldAdvisoryLock(1, 3)} AND l.mode = 'ExclusiveLock') AS served`,
    [RECIPIENT_CLASS, recipientKey(chainId, recipient), allKey(chainId)],
  );
  return rows[0]?.served === true;
}

/** The Redeemers' recipient leases as the other services read them (recipientServed). */
@Injectable()
export class RedeemerLeases {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  recipientServed(chainId: bigint, recipient: string): Promise<boolean> {
    return recipientServed(this.ds, chainId, recipient);
  }
}

const HOLDER_PREFIX = 'ticketpay-redeemer ';
/**
 * pg_locks rows (alias `l`) of the granted two-key advisory lock ($1 class, hashtext($2) key) in
 * this database: objsubid 2 marks the two-key form.
 */
function heldAdvisoryLock(classParam: number, keyParam: number): string {
  return `l.locktype = 'advisory' AND l.granted
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = $${classParam}::oid AND l.objid = hashtext($${keyParam})::oid AND l.objsubid = 2`;
}
const HELD_ADVISORY_LOCK = heldAdvisoryLock(1, 2);
const signerKey = (signer: string) => `redeemer-signer:${signer.toLowerCase()}`;
const allKey = (chainId: bigint) => `redeemer-recipients:${chainId}:*`;
const recipientKey = (chainId: bigint, recipient: string) =>
  `redeemer-recipient:${chainId}:${recipient.toLowerCase()}`;
const senderKey = (chainId: bigint, sender: string) => `redeemer-sender:${chainId}:${sender.toLowerCase()}`;
