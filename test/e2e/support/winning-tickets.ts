import type pg from 'pg';

/** The `winning_ticket` rows the Recipient stored for the params with `randHash`, in nonce order. */
export async function winnersOf(
  db: pg.Client | pg.Pool,
  randHash: string,
): Promise<{ ticket_hash: string; status: string }[]> {
  const result = await db.query<{ ticket_hash: string; status: string }>(
    'SELECT ticket_hash, status FROM winning_ticket WHERE recipient_rand_hash = $1 ORDER BY sender_nonce',
    [randHash],
  );
  return result.rows;
}
