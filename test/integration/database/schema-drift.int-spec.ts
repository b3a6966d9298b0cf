import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINAL_STATUSES, WinningTicketStatus, createDataSource } from '#app/database';
import { privateDatabase, type PrivateDatabase } from '../../support/private-database.js';

/**
 * The migrations own the schema; the entities must declare all of it (foreign keys, partial
 * indexes, checks), or TypeORM's schema diff (what `migration:generate` writes) proposes to drop
 * or re-create what the migrations made.
 */
describe('the entities declare exactly the schema the migrations create', () => {
  let db: PrivateDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await privateDatabase('schema_drift');
    ds = await createDataSource(db.url).initialize();
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('TypeORM finds nothing to change in a migrated database', async () => {
    const diff = await ds.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
  });

  // The migrations spell the statuses out; the state machine (winning-ticket.transitions) owns them.
  it('allows exactly the statuses of the state machine, and indexes open tickets by its final ones', async () => {
    const quoted = (sql: string) => [...sql.matchAll(/'([a-z]+)'/g)].map((m) => m[1]).sort();
    const [check] = await ds.query<{ def: string }[]>(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'chk_winning_ticket_status'`,
    );
    expect(quoted(check.def)).toEqual(Object.values(WinningTicketStatus).sort());
    const [index] = await ds.query<{ def: string }[]>(
      `SELECT indexdef AS def FROM pg_indexes WHERE indexname = 'idx_winning_ticket_open_sender'`,
    );
    expect(index.def).toMatch(/WHERE .*<> ALL/);
    expect(quoted(index.def.slice(index.def.indexOf('WHERE')))).toEqual([...FINAL_STATUSES].sort());
  });
});
