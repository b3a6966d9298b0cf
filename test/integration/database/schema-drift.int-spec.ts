import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataSource } from '#app/database';
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
});
