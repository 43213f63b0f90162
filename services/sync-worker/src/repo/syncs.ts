import type { Sync, SyncStatus, SyncTrigger } from '@switchyard/contracts';
import { AppError, decodeCursor, pageOf, type Pool, type PoolClient } from '@switchyard/kit';

interface Row {
  id: string;
  tenant_id: string;
  integration_id: string;
  status: SyncStatus;
  trigger: SyncTrigger;
  progress_done: number;
  progress_total: number;
  attempts: number;
  error: Sync['error'];
  summary: Sync['summary'];
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

type Db = Pool | PoolClient;

export const toSync = (r: Row): Sync => ({
  id: r.id,
  tenant_id: r.tenant_id,
  integration_id: r.integration_id,
  status: r.status,
  trigger: r.trigger,
  progress: { done: r.progress_done, total: r.progress_total },
  attempts: r.attempts,
  error: r.error,
  summary: r.summary,
  created_at: r.created_at.toISOString(),
  started_at: r.started_at?.toISOString() ?? null,
  finished_at: r.finished_at?.toISOString() ?? null,
});

const ACTIVE = `status IN ('STARTED', 'PROCESSING')`;

/** Inserts a sync unless one with this id exists; a second active sync of the integration is a unique violation. */
export async function insertSync(
  tx: PoolClient,
  s: { id: string; tenantId: string; integrationId: string; trigger: SyncTrigger },
): Promise<{ sync: Sync; created: boolean }> {
  const inserted = await tx.query<Row>(
    `INSERT INTO syncs (id, tenant_id, integration_id, status, trigger) VALUES ($1, $2, $3, 'STARTED', $4)
     ON CONFLICT (id) DO NOTHING RETURNING *`,
    [s.id, s.tenantId, s.integrationId, s.trigger],
  );
  if (inserted.rows[0]) return { sync: toSync(inserted.rows[0]), created: true };
  return { sync: await getSync(tx, s.tenantId, s.id), created: false };
}

export async function findActive(db: Db, integrationId: string): Promise<Sync | undefined> {
  const { rows } = await db.query<Row>(`SELECT * FROM syncs WHERE integration_id = $1 AND ${ACTIVE}`, [integrationId]);
  return rows[0] && toSync(rows[0]);
}

export async function getSync(db: Db, tenantId: string, id: string): Promise<Sync> {
  const { rows } = await db.query<Row>('SELECT * FROM syncs WHERE id = $1 AND tenant_id = $2', [id, tenantId]);
  if (!rows[0]) throw new AppError('NOT_FOUND', `sync ${id} not found`);
  return toSync(rows[0]);
}

export async function listSyncs(db: Db, tenantId: string, integrationId: string, page: { limit: number; cursor?: string }) {
  const after = page.cursor ? decodeCursor(page.cursor) : null;
  const { rows } = await db.query<Row>(
    `SELECT * FROM syncs WHERE tenant_id = $1 AND integration_id = $2
        AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
      ORDER BY created_at DESC, id DESC LIMIT $5`,
    [tenantId, integrationId, after?.at ?? null, after?.id ?? null, page.limit + 1],
  );
  return pageOf(rows, page.limit, (r) => [r.created_at, r.id], toSync);
}

export async function latestSyncs(db: Db, tenantId: string, integrationIds: string[]): Promise<Sync[]> {
  const { rows } = await db.query<Row>(
    `SELECT DISTINCT ON (integration_id) * FROM syncs WHERE tenant_id = $1 AND integration_id = ANY($2::uuid[])
      ORDER BY integration_id, created_at DESC, id DESC`,
    [tenantId, integrationIds],
  );
  return rows.map(toSync);
}

/** Claims a sync for a delivery of its job; undefined when it already ended (a redelivery after the fact). */
export async function markProcessing(db: Db, id: string): Promise<Sync | undefined> {
  const { rows } = await db.query<Row>(
    `UPDATE syncs SET status = 'PROCESSING', attempts = attempts + 1, started_at = COALESCE(started_at, clock_timestamp()),
            heartbeat_at = clock_timestamp()
      WHERE id = $1 AND ${ACTIVE} RETURNING *`,
    [id],
  );
  return rows[0] && toSync(rows[0]);
}

/** Records progress; undefined when the sync is no longer PROCESSING (cancelled meanwhile). */
export async function recordProgress(db: Db, id: string, done: number, total: number): Promise<Sync | undefined> {
  const { rows } = await db.query<Row>(
    `UPDATE syncs SET progress_done = $2, progress_total = $3, heartbeat_at = clock_timestamp()
      WHERE id = $1 AND status = 'PROCESSING' RETURNING *`,
    [id, done, total],
  );
  return rows[0] && toSync(rows[0]);
}

/** Ends an active sync; undefined when it had already ended. */
export async function finishSync(
  db: Db,
  id: string,
  status: 'COMPLETED' | 'FAILED' | 'CANCELLED',
  extra: { error?: Sync['error']; summary?: Sync['summary'] } = {},
): Promise<Sync | undefined> {
  const { rows } = await db.query<Row>(
    `UPDATE syncs SET status = $2, error = $3, summary = COALESCE($4, summary), finished_at = clock_timestamp()
      WHERE id = $1 AND ${ACTIVE} RETURNING *`,
    [id, status, extra.error ?? null, extra.summary ?? null],
  );
  return rows[0] && toSync(rows[0]);
}

/** Active syncs nobody has touched for `silentMs`: their worker died and the job will not come back. */
export async function findSilent(db: Db, silentMs: number): Promise<{ id: string; tenant_id: string }[]> {
  const { rows } = await db.query<{ id: string; tenant_id: string }>(
    `SELECT id, tenant_id FROM syncs
      WHERE status = 'PROCESSING' AND heartbeat_at < clock_timestamp() - make_interval(secs => $1 / 1000.0)`,
    [silentMs],
  );
  return rows;
}

/** Keeps a PROCESSING sync fresh for the sweeper while a long catalog query runs. */
export async function touchSync(db: Db, id: string): Promise<void> {
  await db.query(`UPDATE syncs SET heartbeat_at = clock_timestamp() WHERE id = $1 AND status = 'PROCESSING'`, [id]);
}

/** Puts a PROCESSING sync back to STARTED while its job waits for another attempt. */
export async function markWaiting(db: Db, id: string): Promise<void> {
  await db.query(`UPDATE syncs SET status = 'STARTED' WHERE id = $1 AND status = 'PROCESSING'`, [id]);
}

/** Locks the sync's row for the rest of the transaction and says its status. */
export async function lockSyncStatus(tx: PoolClient, id: string): Promise<SyncStatus | undefined> {
  const { rows } = await tx.query<{ status: SyncStatus }>('SELECT status FROM syncs WHERE id = $1 FOR UPDATE', [id]);
  return rows[0]?.status;
}
