/**
 * Who runs a sync. A delivery of its job claims it, and every later write of
 * that run (progress, heartbeat, retry, result) is fenced on the claim, so at
 * most one delivery can change the sync at a time:
 *
 * - a job of another generation than the row expects never claims it (an old
 *   job that turns up after the sweeper re-enqueued the sync);
 * - a delivery claims it only when it is newer than the one that holds it
 *   (JetStream redelivers only after the older delivery went quiet past its
 *   ack wait), and from then on the older one's writes match no row.
 */
import type { Sync } from '@switchyard/contracts';
import type { PoolClient } from '@switchyard/kit';
import { ACTIVE, toSync, type Db, type Row } from './syncs.ts';

/** One delivery of one job of a sync. */
export interface Claim {
  syncId: string;
  generation: number;
  /** JetStream's delivery count of the job's message (1 on the first). */
  delivery: number;
}

/** What became of a claim: still held, the sync ended, a newer job runs it, or a newer delivery of this job does. */
export type ClaimVerdict = 'held' | 'ended' | 'stale' | 'superseded';

const HOLDS = `id = $1 AND status = 'PROCESSING' AND job_generation = $2 AND claimed_delivery = $3`;
const args = (c: Claim) => [c.syncId, c.generation, c.delivery];

/** Why a fenced write matched nothing. */
async function verdictOf(db: Db, c: Claim): Promise<ClaimVerdict> {
  const { rows } = await db.query<{ status: string; job_generation: number; claimed_delivery: number }>(
    'SELECT status, job_generation, claimed_delivery FROM syncs WHERE id = $1',
    [c.syncId],
  );
  const r = rows[0];
  if (!r || !['STARTED', 'PROCESSING'].includes(r.status)) return 'ended';
  if (r.job_generation !== c.generation) return 'stale';
  if (r.claimed_delivery !== c.delivery) return 'superseded';
  return r.status === 'PROCESSING' ? 'held' : 'superseded';
}

/** Claims the sync for this delivery (PROCESSING, one more attempt); otherwise says why not. */
export async function claimSync(db: Db, c: Claim): Promise<{ verdict: 'held'; sync: Sync } | { verdict: Exclude<ClaimVerdict, 'held'> }> {
  const { rows } = await db.query<Row>(
    `UPDATE syncs SET status = 'PROCESSING', claimed_delivery = $3, attempts = attempts + 1,
            started_at = COALESCE(started_at, clock_timestamp()), heartbeat_at = clock_timestamp()
      WHERE id = $1 AND ${ACTIVE} AND job_generation = $2 AND claimed_delivery < $3 RETURNING *`,
    args(c),
  );
  if (rows[0]) return { verdict: 'held', sync: toSync(rows[0]) };
  const verdict = await verdictOf(db, c);
  // A claim equal to ours that we do not remember making: treat it as another's.
  return { verdict: verdict === 'held' ? 'superseded' : verdict };
}

/** Records progress under the claim; the verdict when it is no longer held. */
export async function recordProgress(db: Db, c: Claim, done: number, total: number): Promise<{ sync?: Sync; verdict: ClaimVerdict }> {
  const { rows } = await db.query<Row>(
    `UPDATE syncs SET progress_done = $4, progress_total = $5, heartbeat_at = clock_timestamp() WHERE ${HOLDS} RETURNING *`,
    [...args(c), done, total],
  );
  return rows[0] ? { sync: toSync(rows[0]), verdict: 'held' } : { verdict: await verdictOf(db, c) };
}

/** Keeps the claimed sync fresh for the sweeper while a long catalog query runs. */
export async function touchSync(db: Db, c: Claim): Promise<ClaimVerdict> {
  const { rowCount } = await db.query(`UPDATE syncs SET heartbeat_at = clock_timestamp() WHERE ${HOLDS}`, args(c));
  return rowCount ? 'held' : verdictOf(db, c);
}

/** Puts the claimed sync back to STARTED while its job waits for another delivery; the verdict when the claim was lost. */
export async function markWaiting(db: Db, c: Claim): Promise<ClaimVerdict> {
  const { rowCount } = await db.query(`UPDATE syncs SET status = 'STARTED', heartbeat_at = clock_timestamp() WHERE ${HOLDS}`, args(c));
  return rowCount ? 'held' : verdictOf(db, c);
}

/** Locks the sync's row for the rest of the transaction and says whether the claim still holds it. */
export async function lockClaim(tx: PoolClient, c: Claim): Promise<ClaimVerdict> {
  await tx.query('SELECT 1 FROM syncs WHERE id = $1 FOR UPDATE', [c.syncId]);
  return verdictOf(tx, c);
}
