import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, type EntityManager, type Repository } from 'typeorm';
import { GroupCommit, type GroupMember } from '#app/core';
import { isLockTimeout, SenderFundsTimeout } from '../chain-tx/signer-lease.js';
import { RETRIED_ON_CONFLICT } from '../query-logger.js';
import type { DbTransaction } from '../unit-of-work.js';
import { WinningTicketEntity, WinningTicketStatus } from './winning-ticket.entity.js';
import {
  IN_TX_STATUSES,
  MOVES,
  OPEN_STATUSES,
  UNCLAIMED_STATUSES,
  type Move,
} from './winning-ticket.transitions.js';

export type NewWinningTicket = Omit<
  WinningTicketEntity,
  'status' | 'statusReason' | 'txHash' | 'offers' | 'createdAt' | 'updatedAt' | 'revealBlock'
> &
  Partial<Pick<WinningTicketEntity, 'revealBlock'>>;

type Patch = Partial<Pick<WinningTicketEntity, 'statusReason' | 'txHash'>>;

/** How a ticket's tx decided it. */
export type Settlement =
  | { status: WinningTicketStatus.REDEEMED; txHash: string | null; statusReason: string | null }
  | { status: WinningTicketStatus.FAILED; statusReason: string };

/** The columns of a new row: its field, its column and the array type its values are sent as. */
const NEW_ROW_COLUMNS: readonly (readonly [keyof NewWinningTicket, string, string])[] = [
  ['ticketHash', 'ticket_hash', 'text'],
  ['recipient', 'recipient', 'text'],
  ['sender', 'sender', 'text'],
  ['faceValue', 'face_value', 'numeric'],
  ['winProb', 'win_prob', 'numeric'],
  ['senderNonce', 'sender_nonce', 'int8'],
  ['recipientRandHash', 'recipient_rand_hash', 'text'],
  ['creationRound', 'creation_round', 'int8'],
  ['creationRoundBlockHash', 'creation_round_block_hash', 'text'],
  ['paramsExpirationBlock', 'params_expiration_block', 'int8'],
  ['revealBlock', 'reveal_block', 'int8'],
  ['sig', 'sig', 'text'],
  ['recipientRand', 'recipient_rand', 'numeric'],
];

/**
 * The channel every INSERT of new winners (insertAllIfAbsent) notifies when it commits: the payload
 * is the distinct senders of the rows it inserted (lowercase, comma-separated), or
 * NEW_WINNERS_ALL_SENDERS when they would not fit one notification. A reader that caches pending
 * face value (the SenderMonitor's max float) re-reads those senders at once instead of at its
 * next poll. Rows leaving the pending statuses are not notified: they only raise max float.
 */
export const NEW_WINNERS_CHANNEL = 'winning_ticket_new_winners';
/** The payload that stands for "any sender": more senders than a notification holds. */
export const NEW_WINNERS_ALL_SENDERS = '*';
/** Postgres refuses a NOTIFY payload of this many bytes or more. */
const NOTIFY_PAYLOAD_MAX_BYTES = 8_000;

// A row stored before inserts nothing; while unclaimed, it counts the new offers (deleteUnclaimed
// takes back only a row that one payment offered). `xmax = 0` tells the rows this statement
// inserted from those it only counted. The conflict target is the ticket hash alone, so the
// signature's unique index is checked strictly: the same ticket inserted at once by another
// process (a retry at another replica) fails it once that one commits (insertAllIfAbsent then
// runs again, and takes the update path).
// The same statement notifies NEW_WINNERS_CHANNEL (delivered on commit, dropped on rollback): one
// notification for the whole group, none when it inserted nothing. The outer WHERE makes the
// `notified` CTE run (a plain SELECT CTE runs only when referenced); it is always true.
const INSERT_ALL_SQL = `WITH stored AS (
  INSERT INTO winning_ticket (${NEW_ROW_COLUMNS.map(([, column]) => column).join(', ')}, offers, status)
  SELECT *, '${WinningTicketStatus.RECEIVED}' FROM unnest(${NEW_ROW_COLUMNS.map(([, , type], i) => `$${i + 1}::${type}[]`).join(', ')}, $${NEW_ROW_COLUMNS.length + 1}::int4[])
  ON CONFLICT (ticket_hash) DO UPDATE SET offers = winning_ticket.offers + EXCLUDED.offers
    WHERE winning_ticket.status = ANY($${NEW_ROW_COLUMNS.length + 2})
  RETURNING ticket_hash, sender, xmax = 0 AS inserted
), senders AS (
  SELECT string_agg(DISTINCT sender, ',') AS list FROM stored WHERE inserted
), notified AS (
  SELECT pg_notify('${NEW_WINNERS_CHANNEL}',
    CASE WHEN octet_length(list) < ${NOTIFY_PAYLOAD_MAX_BYTES} THEN list ELSE '${NEW_WINNERS_ALL_SENDERS}' END)
  FROM senders WHERE list IS NOT NULL
)
SELECT ticket_hash, inserted FROM stored WHERE (SELECT count(*) FROM notified) >= 0`;

// MOVES.queue as a compare-and-set, committed without waiting for the flush: set_config(…, true)
// lasts for the statement's own transaction and costs no round trip of its own; it is evaluated
// for every row that moves, so a commit with anything to flush always has it.
const QUEUE_ALL_SQL = `UPDATE winning_ticket SET status = $3, updated_at = now()
  WHERE ticket_hash = ANY($1) AND status = ANY($2)
    AND set_config('synchronous_commit', 'off', true) IS NOT NULL
  RETURNING ticket_hash`;

/** How often a group INSERT runs when another process's INSERT of the same rows made it fail. */
const INSERT_ATTEMPTS = 3;

/**
 * Whether an INSERT failed only because another process inserted the same winners at once: their
 * signature committed under the same hash (the index that is not the conflict target), or a
 * deadlock with a writer of those rows in another order. Run again, it finds them stored.
 */
function concurrentInsert(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string };
  return e.code === '40P01' || (e.code === '23505' && e.constraint === 'uq_winning_ticket_sig');
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** findByHash calls one SELECT answers at most. */
const READ_GROUP_MAX = 500;
/** note calls one group commits at most (one UPDATE per distinct reason in it). */
const NOTE_GROUP_MAX = 500;

/** A note to record: why a queued ticket is not moving. */
interface Note {
  ticketHash: string;
  statusReason: string;
}

/** A non-final ticket as the reconciler and recovery see it. */
export interface OpenTicketRef {
  ticketHash: string;
  sender: string;
  status: WinningTicketStatus;
  /** Its job's priority (redemptionPriority). */
  creationRound: bigint;
  /** When its params expire: a job re-created for it waits for that like a new one. */
  paramsExpirationBlock: bigint;
  /** The row's reveal block (storedRevealBlock), when its Recipient stored one. */
  revealBlock: bigint | null;
  /**
   * When it was stored, as Postgres prints it (to the microsecond: a JS Date would cut it to the
   * millisecond, and a page could then start over inside one INSERT's rows, which share it).
   */
  storedAt: string;
}

/** Where `openTickets` goes on from: after this ticket in its (created_at, ticket_hash) order. */
export type OpenTicketCursor = Pick<OpenTicketRef, 'storedAt' | 'ticketHash'>;

/**
 * The only writer of `winning_ticket`. Inserts are idempotent by ticket hash; every status change
 * is one of the named moves of MOVES (checked against TRANSITIONS) and a compare-and-set on the
 * row, so concurrent workers and crashed retries cannot redeem or drop a ticket twice. Each move
 * returns whether the row moved. The moves that pair with a `redemption` write (settle, requeue,
 * finalize) take a DbTransaction (UnitOfWork) so the pair commits as one.
 */
@Injectable()
export class WinningTicketRepository {
  private readonly reads = new GroupCommit<string, WinningTicketEntity | null>(
    (group) => this.readGroup(group),
    () => 1,
    READ_GROUP_MAX,
  );

  private readonly notes = new GroupCommit<Note, boolean>(
    (group) => this.noteGroup(group),
    () => 1,
    NOTE_GROUP_MAX,
  );

  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  private repo(manager?: EntityManager): Repository<WinningTicketEntity> {
    return (manager ?? this.ds.manager).getRepository(WinningTicketEntity);
  }

  /** Stores the ticket unless a row with its hash exists. Returns whether this call inserted it. */
  async insertIfAbsent(ticket: NewWinningTicket, manager?: EntityManager): Promise<boolean> {
    const result = await this.repo(manager)
      .createQueryBuilder()
      .insert()
      .values({ ...ticket, status: WinningTicketStatus.RECEIVED })
      .orIgnore()
      .execute();
    return (result.raw as unknown[]).length > 0;
  }

  /**
   * `insertIfAbsent` for many tickets in one statement (a group of payments' winners), committed
   * when it returns; `offers[i]` is how many payments carry `tickets[i]` (1 by default), added to
   * the row's count when it was stored before and is still unclaimed. Returns the hashes this call
   * inserted; the others were stored before. The rows go as one array per column (a fixed 15
   * parameters for any number of rows), in SQL of our own: a third of the CPU of building the same
   * INSERT through the query builder. The same statement notifies NEW_WINNERS_CHANNEL with the
   * senders of the rows it inserted.
   */
  async insertAllIfAbsent(
    tickets: readonly NewWinningTicket[],
    offers: readonly number[] = tickets.map(() => 1),
  ): Promise<Set<string>> {
    if (tickets.length === 0) return new Set();
    // In hash order: every inserter then locks the rows it meets in one order (no deadlock
    // between two processes storing the same winners).
    const order = tickets
      .map((_, i) => i)
      .sort((a, b) => compare(tickets[a].ticketHash, tickets[b].ticketHash));
    const params = [
      ...NEW_ROW_COLUMNS.map(([field]) => order.map((i) => textOrNull(tickets[i][field]))),
      order.map((i) => offers[i]),
      UNCLAIMED_STATUSES,
    ];
    for (let attempt = 1; ; attempt++) {
      try {
        const rows = await this.ds.query<{ ticket_hash: string; inserted: boolean }[]>(
          // Tagged while a failure is run again (logged at debug level), not at the last attempt.
          attempt < INSERT_ATTEMPTS ? `${RETRIED_ON_CONFLICT} ${INSERT_ALL_SQL}` : INSERT_ALL_SQL,
          params,
        );
        return new Set(rows.filter((r) => r.inserted).map((r) => r.ticket_hash));
      } catch (err) {
        if (attempt >= INSERT_ATTEMPTS || !concurrentInsert(err)) throw err;
      }
    }
  }

  /**
   * Deletes the rows of `ticketHashes` that no redemption has claimed yet (UNCLAIMED_STATUSES)
   * and that one payment only offered: for an intake that stored tickets whose payment was then
   * refused. A row another payment offered too stays (that one may have been credited for it; if
   * it was refused as well, a valid winner is kept, which loses no one anything). Returns the
   * hashes deleted.
   */
  async deleteUnclaimed(ticketHashes: readonly string[]): Promise<string[]> {
    if (ticketHashes.length === 0) return [];
    const [rows] = await this.ds.query<[{ ticket_hash: string }[], number]>(
      `DELETE FROM winning_ticket WHERE ticket_hash = ANY($1) AND status = ANY($2) AND offers = 1
        RETURNING ticket_hash`,
      [ticketHashes, UNCLAIMED_STATUSES],
    );
    return rows.map((r) => r.ticket_hash);
  }

  /**
   * The row of `ticketHash`. Read with one fixed statement and hydrated by hand: every redemption
   * job run reads its ticket, and TypeORM's find builds the query and maps the result anew each time.
   * Concurrent calls share one SELECT (a group read: a lone call goes at once, the calls arriving
   * while it runs go together next), since jobs falling due together (their params expiring at the
   * same block) read together; each call still sees every write committed before it was made.
   */
  findByHash(ticketHash: string): Promise<WinningTicketEntity | null> {
    return this.reads.submit(ticketHash);
  }

  /** One SELECT for a group of findByHash calls; each caller gets a row of its own. */
  private async readGroup(group: readonly GroupMember<string, WinningTicketEntity | null>[]): Promise<void> {
    const rows = await this.selectByHashes([...new Set(group.map((m) => m.input))]);
    const byHash = new Map(rows.map((r) => [r.ticket_hash, r]));
    for (const m of group) {
      const raw = byHash.get(m.input);
      m.resolve(raw ? hydrate(raw) : null);
    }
  }

  async findByHashes(hashes: readonly string[]): Promise<WinningTicketEntity[]> {
    if (hashes.length === 0) return [];
    return (await this.selectByHashes(hashes)).map(hydrate);
  }

  /** The raw rows of `hashes` (at least one), by the fixed statements: `=` for one, `ANY` for more. */
  private selectByHashes(hashes: readonly string[]): Promise<RawTicket[]> {
    return hashes.length === 1
      ? this.ds.query<RawTicket[]>(`${SELECT_TICKETS} WHERE ticket_hash = $1`, [hashes[0]])
      : this.ds.query<RawTicket[]>(`${SELECT_TICKETS} WHERE ticket_hash = ANY($1::text[])`, [[...hashes]]);
  }

  /**
   * Non-final tickets (or only those in `statuses`), oldest first, optionally only those paying
   * `recipients`, and only those after `after`: what the reconciler (page by page) and the
   * Redeemer's recovery re-drive.
   */
  async openTickets(
    recipients: readonly string[] | undefined,
    limit: number,
    statuses: readonly WinningTicketStatus[] = OPEN_STATUSES,
    after?: OpenTicketCursor,
  ): Promise<OpenTicketRef[]> {
    const where = ['status = ANY($1::text[])'];
    const params: unknown[] = [statuses.filter((s) => OPEN_STATUSES.includes(s))];
    if (recipients) where.push(`recipient = ANY($${params.push([...recipients])}::text[])`);
    if (after) {
      const at = params.push(after.storedAt);
      where.push(`(created_at, ticket_hash) > ($${at}::timestamptz, $${params.push(after.ticketHash)})`);
    }
    const rows = await this.ds.query<
      {
        ticket_hash: string;
        sender: string;
        status: WinningTicketStatus;
        creation_round: string;
        params_expiration_block: string;
        reveal_block: string | null;
        stored_at: string;
      }[]
    >(
      `SELECT ticket_hash, sender, status, creation_round::text, params_expiration_block::text,
              reveal_block::text, created_at::text AS stored_at
         FROM winning_ticket WHERE ${where.join(' AND ')}
        ORDER BY created_at, ticket_hash LIMIT $${params.push(limit)}`,
      params,
    );
    return rows.map((r) => ({
      ticketHash: r.ticket_hash,
      sender: r.sender,
      status: r.status,
      creationRound: BigInt(r.creation_round),
      paramsExpirationBlock: BigInt(r.params_expiration_block),
      revealBlock: r.reveal_block === null ? null : BigInt(r.reveal_block),
      storedAt: r.stored_at,
    }));
  }

  /**
   * Whether a ticket created in `creationRound` (optionally only one paying `recipients`) waits for
   * a tx (received or queued), other than for a reason noted in `exceptReasons`: the Redeemer asks
   * before holding every ticket for the round's end, which would let such a ticket, in its last
   * valid round, expire.
   */
  async anyUnclaimedCreatedIn(
    recipients: readonly string[] | undefined,
    creationRound: bigint,
    exceptReasons: readonly string[] = [],
  ): Promise<boolean> {
    const params: unknown[] = [UNCLAIMED_STATUSES, creationRound.toString(), exceptReasons];
    const served = recipients ? ` AND recipient = ANY($${params.push([...recipients])}::text[])` : '';
    const rows = await this.ds.query<unknown[]>(
      `SELECT 1 FROM winning_ticket
        WHERE status = ANY($1::text[]) AND creation_round = $2::int8
          AND (status_reason IS NULL OR status_reason <> ALL($3::text[]))${served}
        LIMIT 1`,
      params,
    );
    return rows.length > 0;
  }

  /**
   * Face value of `sender`'s tickets to `recipient` created in `creationRound` that wait for a tx
   * (received or queued), but for `except`: the Redeemer keeps that much of the sender's funds for
   * them when they are in their last valid round, before funding younger tickets.
   */
  async unclaimedFaceValue(
    sender: string,
    recipient: string,
    creationRound: bigint,
    except: readonly string[],
  ): Promise<bigint> {
    const [row] = await this.ds.query<{ total: string | null }[]>(
      `SELECT sum(face_value)::text AS total FROM winning_ticket
        WHERE sender = $1 AND recipient = $2 AND creation_round = $3::int8 AND status = ANY($4::text[])
          AND ticket_hash <> ALL($5::text[])`,
      [sender, recipient, creationRound.toString(), UNCLAIMED_STATUSES, [...except]],
    );
    return BigInt(row?.total ?? '0');
  }

  /**
   * The senders' tickets claimed by a tx, whichever Redeemer claimed them: what those senders'
   * funds may still have to pay.
   */
  async inTx(
    senders: readonly string[],
  ): Promise<Pick<WinningTicketEntity, 'ticketHash' | 'sender' | 'recipient' | 'faceValue'>[]> {
    if (senders.length === 0) return [];
    const rows = await this.ds.query<
      { ticket_hash: string; sender: string; recipient: string; face_value: string }[]
    >(
      `SELECT ticket_hash, sender, recipient, face_value::text AS face_value FROM winning_ticket
        WHERE sender = ANY($1::text[]) AND status = ANY($2::text[])`,
      [senders, IN_TX_STATUSES],
    );
    return rows.map((r) => ({
      ticketHash: r.ticket_hash,
      sender: r.sender,
      recipient: r.recipient,
      faceValue: BigInt(r.face_value),
    }));
  }

  /**
   * Of `ticketHashes`, those claimed (`submitting`) after tx `chainTxId` was stored: claimed for a
   * tx not stored yet, though that older tx is still the newest naming them (it put them back in
   * line, and a batch took them again). That tx must not decide them. A claim is a ticket's last
   * write before its tx is stored, so its `updated_at` is the claim's time; both times are the
   * database's, compared there to the microsecond.
   */
  async claimedAfter(ticketHashes: readonly string[], chainTxId: string): Promise<Set<string>> {
    if (ticketHashes.length === 0) return new Set();
    const rows = await this.ds.query<{ ticket_hash: string }[]>(
      `SELECT w.ticket_hash FROM winning_ticket w JOIN chain_tx t ON t.id = $2::int8
        WHERE w.ticket_hash = ANY($1::text[]) AND w.status = $3 AND w.updated_at > t.created_at`,
      [[...ticketHashes], chainTxId, WinningTicketStatus.SUBMITTING],
    );
    return new Set(rows.map((r) => r.ticket_hash));
  }

  /** received → queued: its redemption job exists. */
  queue(ticketHash: string): Promise<boolean> {
    return this.move(MOVES.queue, ticketHash, WinningTicketStatus.QUEUED);
  }

  /**
   * `queue` for many tickets in one statement (the intake's, after each group's bulk enqueue);
   * returns the hashes that moved. Its commit does not wait for the WAL flush, since the intake's
   * answer waits for it: should a crash lose the move, the row is still `received` with its job in
   * Redis, and the reconciler, which looks at every `received` row, moves it again. Any later
   * durable commit (a worker's claim) flushes it first.
   */
  async queueAll(ticketHashes: readonly string[]): Promise<string[]> {
    if (ticketHashes.length === 0) return [];
    // TypeORM answers an UPDATE with [rows, row count].
    const [rows] = await this.ds.query<[{ ticket_hash: string }[], number]>(QUEUE_ALL_SQL, [
      ticketHashes,
      MOVES.queue.from,
      WinningTicketStatus.QUEUED,
    ]);
    return rows.map((r) => r.ticket_hash);
  }

  /**
   * Records why a queued ticket waits or was retried (visible to operators); the status stays.
   * Concurrent calls are written together (a group commit: a lone call goes at once, the calls
   * arriving while it runs go together next), one UPDATE per reason: tickets held for the round
   * all fall due and wait at once. Returns whether the row was queued and took the note.
   */
  note(ticketHash: string, statusReason: string): Promise<boolean> {
    return this.notes.submit({ ticketHash, statusReason });
  }

  /** One UPDATE per distinct reason of a group of note calls. */
  private async noteGroup(group: readonly GroupMember<Note, boolean>[]): Promise<void> {
    const byReason = new Map<string, Set<string>>();
    for (const m of group) {
      const hashes = byReason.get(m.input.statusReason) ?? new Set<string>();
      hashes.add(m.input.ticketHash);
      byReason.set(m.input.statusReason, hashes);
    }
    const moved = new Set<string>();
    await Promise.all(
      [...byReason].map(async ([statusReason, hashes]) => {
        const noted = await this.moveAll(MOVES.note, [...hashes], WinningTicketStatus.QUEUED, {
          statusReason,
        });
        for (const h of noted) moved.add(`${statusReason}\n${h}`);
      }),
    );
    for (const m of group) m.resolve(moved.has(`${m.input.statusReason}\n${m.input.ticketHash}`));
  }

  /** queued → submitting: taken for a tx about to be built. */
  claim(ticketHash: string): Promise<boolean> {
    return this.move(MOVES.claim, ticketHash, WinningTicketStatus.SUBMITTING);
  }

  /** submitting → submitted: its tx (first hash `txHash`) is stored and about to be broadcast. */
  markSubmitted(ticketHash: string, txHash: string): Promise<boolean> {
    return this.move(MOVES.markSubmitted, ticketHash, WinningTicketStatus.SUBMITTED, {
      txHash,
      statusReason: null,
    });
  }

  /**
   * `claim` for a whole batch in one statement; returns the hashes that moved. With
   * `maxLockWaitMs`, its wait for a row another transaction holds is bounded (lock_timeout): a claim
   * runs under the senders' funds locks (SignerLease.withSenderFunds), and an unbounded wait would
   * hold them, and every funds check queued behind them, for as long as that transaction stays
   * open. Past the bound it rejects with SenderFundsTimeout, nothing claimed.
   */
  async claimAll(ticketHashes: readonly string[], maxLockWaitMs?: number): Promise<string[]> {
    if (!maxLockWaitMs) return this.moveAll(MOVES.claim, ticketHashes, WinningTicketStatus.SUBMITTING);
    try {
      return await this.ds.transaction(async (trx) => {
        await trx.query("SELECT set_config('lock_timeout', $1, true)", [`${maxLockWaitMs}ms`]);
        return this.moveAll(MOVES.claim, ticketHashes, WinningTicketStatus.SUBMITTING, {}, trx);
      });
    } catch (err) {
      if (!isLockTimeout(err)) throw err;
      throw new SenderFundsTimeout(
        `claim of ${ticketHashes.length} ticket(s) waited over ${maxLockWaitMs} ms for their rows (a transaction holding them open?)`,
      );
    }
  }

  /** `markSubmitted` for every ticket of one tx, in one statement. */
  async markAllSubmitted(ticketHashes: readonly string[], txHash: string): Promise<void> {
    await this.moveAll(MOVES.markSubmitted, ticketHashes, WinningTicketStatus.SUBMITTED, {
      txHash,
      statusReason: null,
    });
  }

  /** `unclaim` for every ticket of a batch whose tx could not be stored, in one statement. */
  async unclaimAll(ticketHashes: readonly string[], statusReason: string): Promise<void> {
    await this.moveAll(MOVES.unclaim, ticketHashes, WinningTicketStatus.QUEUED, { statusReason });
  }

  /** submitting → queued: sending failed before its tx was stored. */
  unclaim(ticketHash: string, statusReason: string): Promise<boolean> {
    return this.move(MOVES.unclaim, ticketHash, WinningTicketStatus.QUEUED, { statusReason });
  }

  /** submitting|submitted → queued: its tx was never stored (crash) or did not redeem it. */
  requeue(ticketHash: string, statusReason: string, trx?: DbTransaction): Promise<boolean> {
    return this.move(MOVES.requeue, ticketHash, WinningTicketStatus.QUEUED, { statusReason }, trx);
  }

  /**
   * `requeue` of a ticket claimed but with no stored tx, only if its row has not changed for
   * `minAgeMs` (by the database's clock): a younger claim may belong to a batch still storing its tx.
   */
  async requeueOrphan(ticketHash: string, statusReason: string, minAgeMs: number): Promise<boolean> {
    const result = await this.repo()
      .createQueryBuilder()
      .update()
      .set({ status: WinningTicketStatus.QUEUED, statusReason })
      .where({ ticketHash, status: In([...MOVES.requeue.from]) })
      .andWhere(`updated_at < now() - :minAgeMs * interval '1 millisecond'`, { minAgeMs })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /** submitting|submitted → redeemed | failed: what its tx decided. */
  settle(ticketHash: string, outcome: Settlement, trx?: DbTransaction): Promise<boolean> {
    const { status, ...patch } = outcome;
    return this.move(MOVES.settle, ticketHash, status, patch, trx);
  }

  /**
   * redeemed → submitted (MOVES.unsettle, a correction): the tx that paid these tickets was taken off
   * the chain, and is followed again; in one statement, the hashes that moved.
   */
  unsettleAll(ticketHashes: readonly string[], statusReason: string, trx: DbTransaction): Promise<string[]> {
    return this.moveAll(MOVES.unsettle, ticketHashes, WinningTicketStatus.SUBMITTED, { statusReason }, trx);
  }

  /** `settle` for many tickets of one tx with the same outcome, in one statement; the hashes that moved. */
  settleAll(ticketHashes: readonly string[], outcome: Settlement, trx?: DbTransaction): Promise<string[]> {
    const { status, ...patch } = outcome;
    return this.moveAll(MOVES.settle, ticketHashes, status, patch, trx);
  }

  /** queued → failed | expired: a check's final verdict. */
  finalize(
    ticketHash: string,
    status: WinningTicketStatus.FAILED | WinningTicketStatus.EXPIRED,
    statusReason: string,
    trx?: DbTransaction,
  ): Promise<boolean> {
    return this.move(MOVES.finalize, ticketHash, status, { statusReason }, trx);
  }

  /** `move` for many tickets at once (each moves only if it is in one of `move.from`); the hashes that moved. */
  private async moveAll<To extends WinningTicketStatus>(
    move: Move<To>,
    ticketHashes: readonly string[],
    to: To,
    patch: Patch = {},
    trx?: DbTransaction,
  ): Promise<string[]> {
    if (!move.to.includes(to)) throw new Error(`move ${move.name} cannot end in ${to}`);
    if (ticketHashes.length === 0) return [];
    const result = await this.repo(trx)
      .createQueryBuilder()
      .update()
      .set({ status: to, ...patch })
      .where({ ticketHash: In([...ticketHashes]), status: In([...move.from]) })
      .returning(['ticketHash'])
      .execute();
    return (result.raw as { ticket_hash: string }[]).map((r) => r.ticket_hash);
  }

  /** The single compare-and-set every status change goes through. */
  private async move<To extends WinningTicketStatus>(
    move: Move<To>,
    ticketHash: string,
    to: To,
    patch: Patch = {},
    trx?: DbTransaction,
  ): Promise<boolean> {
    if (!move.to.includes(to)) throw new Error(`move ${move.name} cannot end in ${to}`);
    const result = await this.repo(trx)
      .createQueryBuilder()
      .update()
      .set({ status: to, ...patch })
      .where({ ticketHash, status: In([...move.from]) })
      .execute();
    return (result.affected ?? 0) > 0;
  }
}

/** A `winning_ticket` row as SELECT_TICKETS returns it (numbers as text: never a JS number). */
interface RawTicket {
  ticket_hash: string;
  recipient: string;
  sender: string;
  face_value: string;
  win_prob: string;
  sender_nonce: string;
  recipient_rand_hash: string;
  creation_round: string;
  creation_round_block_hash: string;
  params_expiration_block: string;
  reveal_block: string | null;
  sig: string;
  recipient_rand: string;
  status: WinningTicketStatus;
  status_reason: string | null;
  tx_hash: string | null;
  created_at: Date;
  updated_at: Date;
}

const SELECT_TICKETS = `SELECT ticket_hash, recipient, sender, face_value::text, win_prob::text, sender_nonce::text,
  recipient_rand_hash, creation_round::text, creation_round_block_hash, params_expiration_block::text,
  reveal_block::text, sig, recipient_rand::text, status, status_reason, tx_hash, created_at, updated_at FROM winning_ticket`;

function hydrate(r: RawTicket): WinningTicketEntity {
  return Object.assign(new WinningTicketEntity(), {
    ticketHash: r.ticket_hash,
    recipient: r.recipient,
    sender: r.sender,
    faceValue: BigInt(r.face_value),
    winProb: BigInt(r.win_prob),
    senderNonce: BigInt(r.sender_nonce),
    recipientRandHash: r.recipient_rand_hash,
    creationRound: BigInt(r.creation_round),
    creationRoundBlockHash: r.creation_round_block_hash,
    paramsExpirationBlock: BigInt(r.params_expiration_block),
    revealBlock: r.reveal_block === null ? null : BigInt(r.reveal_block),
    sig: r.sig,
    recipientRand: BigInt(r.recipient_rand),
    status: r.status,
    statusReason: r.status_reason,
    txHash: r.tx_hash,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });
}

/** A column value as the text its array parameter carries; null stays null (SQL NULL). */
function textOrNull(value: string | bigint | null | undefined): string | null {
  return value === null || value === undefined ? null : String(value);
}
