import type { Logger, Pool } from '@switchyard/kit';
import { pruneAlerts } from '../repo/alerts.ts';
import { pruneAuthFailures } from '../repo/auth-failures.ts';
import { pruneLetters } from '../repo/dead-letters.ts';
import { pruneHealth } from '../repo/health.ts';
import { pruneInstances } from '../repo/instances.ts';
import { pruneProcessed } from '../repo/processed.ts';
import { pruneRollups } from '../repo/rollups.ts';

/**
 * Retention, run by one replica at a time (an advisory lock; the others skip
 * the round). Rollups are bounded per integration (a row a minute for two
 * days, a row an hour for the retention), so deleting the old ones is a
 * small indexed delete; the monitor keeps no unbounded raw table.
 */
export async function maintain(pool: Pool, retentionDays: number, log: Logger): Promise<boolean> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtext('switchyard:monitor:maintenance')) AS ok`);
    if (!rows[0]?.ok) return false;
    try {
      const rollups = await pruneRollups(client, retentionDays);
      const processed = await pruneProcessed(pool);
      await Promise.all([pruneHealth(pool, retentionDays), pruneAlerts(pool, retentionDays), pruneLetters(pool, retentionDays), pruneAuthFailures(pool), pruneInstances(pool)]);
      if (rollups || processed) log.info({ rollups, processed }, 'retention: old rows removed');
      return true;
    } finally {
      await client.query(`SELECT pg_advisory_unlock(hashtext('switchyard:monitor:maintenance'))`);
    }
  } finally {
    client.release();
  }
}
