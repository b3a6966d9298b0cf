import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The face value pending per sender (PendingFaceValue: the Recipient's and SenderMonitor's max
 * float, read for every payment) sums the sender's tickets that are not final. The
 * (sender, status) index cannot answer `status <> ALL(final)` as an index condition, so for a
 * sender with a long history the planner scanned the table (31 ms at 100k rows, one sender). A
 * partial index over the open tickets only, carrying the face value, answers it by an index-only
 * scan whose size is the sender's open tickets, not its history (0.2 ms). Postgres proves the
 * query's `status <> ALL($final)` implies the predicate when it plans with the bound values
 * (node-postgres' unnamed statements always do).
 */
export class AddOpenSenderIndexToWinningTicket1796301867955 implements MigrationInterface {
  name = 'AddOpenSenderIndexToWinningTicket1796301867955';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX "idx_winning_ticket_open_sender" ON "winning_ticket" ("sender", "recipient") INCLUDE ("face_value")
        WHERE "status" NOT IN ('redeemed', 'failed', 'expired')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "idx_winning_ticket_open_sender"`);
  }
}
