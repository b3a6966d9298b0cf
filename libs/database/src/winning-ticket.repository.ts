import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, type EntityManager, type Repository } from 'typeorm';
import { WinningTicketEntity, WinningTicketStatus } from './entities/winning-ticket.entity.js';

export type NewWinningTicket = Omit<
  WinningTicketEntity,
  'status' | 'statusReason' | 'txHash' | 'createdAt' | 'updatedAt'
>;

/** Statuses a ticket never leaves. */
export const FINAL_STATUSES: readonly WinningTicketStatus[] = [
  WinningTicketStatus.REDEEMED,
  WinningTicketStatus.FAILED,
  WinningTicketStatus.EXPIRED,
];

/**
 * The only writer-side access to `winning_ticket`. Inserts are idempotent by ticket hash and
 * status changes are compare-and-set, so concurrent workers and crashed retries cannot
 * redeem or drop a ticket twice.
 */
@Injectable()
export class WinningTicketRepository {
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

  findByHash(ticketHash: string): Promise<WinningTicketEntity | null> {
    return this.repo().findOneBy({ ticketHash });
  }

  /**
   * Moves a ticket from one of `from` to `to` only if it is still in one of `from`; returns
   * whether it moved. The single guard every status change goes through.
   */
  async transition(
    ticketHash: string,
    from: readonly WinningTicketStatus[],
    to: WinningTicketStatus,
    patch: Partial<Pick<WinningTicketEntity, 'statusReason' | 'txHash'>> = {},
  ): Promise<boolean> {
    const result = await this.repo()
      .createQueryBuilder()
      .update()
      .set({ status: to, ...patch })
      .where({ ticketHash, status: In([...from]) })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /**
   * `transition` for many tickets in one statement (a batch claimed for, or recorded in, one tx):
   * each moves only if it is still in one of `from`. Returns the hashes that moved.
   */
  async transitionMany(
    ticketHashes: readonly string[],
    from: readonly WinningTicketStatus[],
    to: WinningTicketStatus,
    patch: Partial<Pick<WinningTicketEntity, 'statusReason' | 'txHash'>> = {},
  ): Promise<string[]> {
    if (ticketHashes.length === 0) return [];
    const result = await this.repo()
      .createQueryBuilder()
      .update()
      .set({ status: to, ...patch })
      .where({ ticketHash: In([...ticketHashes]), status: In([...from]) })
      .returning(['ticketHash'])
      .execute();
    return (result.raw as { ticket_hash: string }[]).map((r) => r.ticket_hash);
  }

  /** Tickets in `statuses`, oldest first: what a reconciler re-drives. */
  listByStatus(statuses: readonly WinningTicketStatus[], limit = 1_000): Promise<WinningTicketEntity[]> {
    return this.repo().find({
      where: { status: In([...statuses]) },
      order: { createdAt: 'ASC' },
      take: limit,
    });
  }
}
