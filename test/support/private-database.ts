import { scratchDatabase, type ScratchDatabase } from '#app/testing';
import { TEST_POSTGRES_URL } from './test-servers.js';

export type PrivateDatabase = ScratchDatabase;

/**
 * A migrated database of one test file. Tests that store winning tickets would otherwise show up
 * in the totals other files assert (the ops API and dashboard tests).
 */
export function privateDatabase(name: string): Promise<PrivateDatabase> {
  return scratchDatabase(TEST_POSTGRES_URL, name);
}
