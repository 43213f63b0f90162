import type { Sync, SyncStatus, SyncTarget, SyncTrigger } from '@switchyard/contracts';
import { AppError, decodeCursor, pageOf, type Pool, type PoolClient } from '@switchyard/kit';

export interface Row {
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

export type Db = Pool | PoolClient;

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

export const ACTIVE = `status IN ('STARTED', 'PROCESSING')`;

/** Inserts a sync unless one with this id exists; a second active sync of the integration is a unique violation. */
export async function insertSync(
  tx: PoolClient,
  s: { id: string; tenantId: string; integrationId: string; trigger: SyncTrigger; target: SyncTarget },
): Promise<{ sync: Sync; created: boolean }> {
  const inserted = await tx.query<Row>(
    `INSERT INTO syncs (id, tenant_id, integration_id, status, trigger, target) VALUES ($1, $2, $3, 'STARTED', $4, $5)
     ON CONFLICT (id) DO NOTHING RETURNING *`,
    [s.id, s.tenantId, s.integrationId, s.trigger, JSON.stringify(s.target)],
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

/** Ends an active sync (only while it expects job `generation`, when given); undefined when it had already ended. */
export async function finishSync(
  db: Db,
  id: string,
  status: 'COMPLETED' | 'FAILED' | 'CANCELLED',
  extra: { error?: Sync['error']; summary?: Sync['summary']; generation?: number } = {},
): Promise<Sync | undefined> {
  const { rows } = await db.query<Row>(
    `UPDATE syncs SET status = $2, error = $3, summary = COALESCE($4, summary), finished_at = clock_timestamp()
      WHERE id = $1 AND ${ACTIVE} AND ($5::int IS NULL OR job_generation = $5) RETURNING *`,
    [id, status, extra.error ?? null, extra.summary ?? null, extra.generation ?? null],
  );
  return rows[0] && toSync(rows[0]);
}

