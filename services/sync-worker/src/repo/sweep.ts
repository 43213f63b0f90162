/** The sweeper's SQL: quiet active syncs, whether their job still waits in the outbox, and putting them back in line. */
import { jobs, type SyncStatus, type SyncTarget } from '@switchyard/contracts';
import type { PoolClient } from '@switchyard/kit';

/** The subject of a sync job (what jobSubject('sync', job) gives, for a job we do not have). */
export const syncJobSubject = (integrationId: string) => `${jobs.sync.prefix}.${integrationId}`;

export interface QuietSync {
  id: string;
  tenant_id: string;
  integration_id: string;
  status: SyncStatus;
  job_generation: number;
  claimed_delivery: number;
  recoveries: number;
  target: SyncTarget | null;
}

/**
 * The active sync heard from least recently, if that was over `silentMs` ago,
 * locked for the rest of the transaction (one another sweeper holds is skipped).
 */
export async function nextQuietSync(tx: PoolClient, silentMs: number): Promise<QuietSync | undefined> {
  const { rows } = await tx.query<QuietSync>(
    `SELECT id, tenant_id, integration_id, status, job_generation, claimed_delivery, recoveries, target FROM syncs
      WHERE status IN ('STARTED', 'PROCESSING') AND heartbeat_at < clock_timestamp() - make_interval(secs => $1 / 1000.0)
      ORDER BY heartbeat_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
    [silentMs],
  );
  return rows[0];
}

/** Whether the sync's job of this generation is still in the outbox, not yet published. */
export async function jobInOutbox(tx: PoolClient, s: QuietSync): Promise<boolean> {
  const { rowCount } = await tx.query(
    `SELECT 1 FROM outbox WHERE published_at IS NULL AND subject = $1 AND event->>'sync_id' = $2
        AND COALESCE((event->>'generation')::int, 0) = $3 LIMIT 1`,
    [syncJobSubject(s.integration_id), s.id, s.job_generation],
  );
  return Boolean(rowCount);
}

/** Its job is on its way: the sync waits for it as STARTED (its worker, if it had one, went quiet), checked again after `silentMs`. */
export async function markJobQueued(tx: PoolClient, id: string): Promise<void> {
  await tx.query(`UPDATE syncs SET status = 'STARTED', heartbeat_at = clock_timestamp() WHERE id = $1`, [id]);
}

/** Expects the next generation of its job (which the caller writes): no delivery of an older one can claim it again. */
export async function expectNextJob(tx: PoolClient, id: string): Promise<number> {
  const { rows } = await tx.query<{ job_generation: number }>(
    `UPDATE syncs SET status = 'STARTED', job_generation = job_generation + 1, claimed_delivery = 0,
            recoveries = recoveries + 1, heartbeat_at = clock_timestamp()
      WHERE id = $1 RETURNING job_generation`,
    [id],
  );
  return rows[0]!.job_generation;
}
