import type { AuthFailure } from '@switchyard/contracts';
import type { Pool, PoolClient } from '@switchyard/kit';

/** Counts a refused request against its address and, when one was presented, its key prefix (per minute). */
export async function countAuthFailure(pool: Pool, f: AuthFailure): Promise<void> {
  const sources = [`address:${f.address}`, ...(f.key_prefix ? [`key:${f.key_prefix}`] : [])];
  await pool.query(
    `INSERT INTO auth_failures (source, bucket, count) SELECT s, date_trunc('minute', LEAST($2::timestamptz, now())), 1 FROM unnest($1::text[]) AS s
     ON CONFLICT (source, bucket) DO UPDATE SET count = auth_failures.count + 1`,
    [sources, f.at],
  );
}

/** Failures per source over the last `seconds`. */
export async function failuresBySource(pool: Pool | PoolClient, seconds: number): Promise<{ source: string; n: number }[]> {
  const { rows } = await pool.query<{ source: string; n: number }>(
    `SELECT source, sum(count)::int AS n FROM auth_failures WHERE bucket >= date_trunc('minute', now() - make_interval(secs => $1))
      GROUP BY source ORDER BY n DESC LIMIT 1000`,
    [seconds],
  );
  return rows;
}

export async function pruneAuthFailures(pool: Pool): Promise<void> {
  await pool.query(`DELETE FROM auth_failures WHERE bucket < now() - interval '1 day'`);
}
