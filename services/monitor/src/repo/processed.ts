import type { Pool, PoolClient } from '@switchyard/kit';

/**
 * Marks an event as counted, in the caller's transaction: false when it was
 * already (a redelivery), so nothing is counted twice.
 */
export async function firstTime(tx: PoolClient, eventId: string): Promise<boolean> {
  const { rowCount } = await tx.query('INSERT INTO processed_events (id) VALUES ($1) ON CONFLICT (id) DO NOTHING', [eventId]);
  return rowCount === 1;
}

/** Forgets ids past any redelivery: the EVENTS stream keeps events 7 days. */
export async function pruneProcessed(pool: Pool): Promise<number> {
  const { rowCount } = await pool.query(`DELETE FROM processed_events WHERE at < now() - interval '8 days'`);
  return rowCount ?? 0;
}
