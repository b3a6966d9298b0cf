import { INFRA_ENV, parseEnv, runMain } from '#app/common';
import { runMigrations } from '#app/database';

/** One-shot `npm run migrate`: applies pending migrations to DATABASE_URL. */
runMain(async () => {
  const { DATABASE_URL } = parseEnv({ DATABASE_URL: INFRA_ENV.DATABASE_URL }, process.env);
  const ran = await runMigrations(DATABASE_URL);
  process.stdout.write(ran.length ? `applied: ${ran.join(', ')}\n` : 'schema is up to date\n');
});
