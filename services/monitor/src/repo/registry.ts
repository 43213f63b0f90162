import type { Integration } from '@switchyard/contracts';
import type { Pool, PoolClient } from '@switchyard/kit';

type Db = Pool | PoolClient;

export interface Registered {
  id: string;
  tenant_id: string;
  name: string;
  connected: boolean;
  schemas_configured: number | null;
  check_interval_s: number | null;
  next_check_at: Date | null;
}

/**
 * Records an integration as its latest lifecycle event describes it (an
 * older event arriving late changes nothing). A newly connected one, or one
 * whose interval changed, gets its first check at a random point of its
 * interval, so integrations created together are not checked together.
 * Returns whether it is connected now, and whether that changed.
 */
export async function upsertIntegration(
  tx: Db,
  i: Integration,
  eventTime: Date,
  defaultIntervalMs: number,
): Promise<{ connected: boolean; changed: boolean } | null> {
  const { rows } = await tx.query<{ connected: boolean; was: boolean | null }>(
    `WITH before AS (SELECT connected FROM integrations WHERE id = $1)
     INSERT INTO integrations AS t (id, tenant_id, name, connected, schemas_configured, check_interval_s, next_check_at, event_time)
     VALUES ($1, $2, $3, $4, $5::int, $6::int,
             CASE WHEN $4 THEN now() + make_interval(secs => COALESCE($6::int, $8::int / 1000.0) * random()) END, $7)
     ON CONFLICT (id) DO UPDATE SET
        name = EXCLUDED.name, connected = EXCLUDED.connected, schemas_configured = EXCLUDED.schemas_configured,
        check_interval_s = EXCLUDED.check_interval_s, event_time = EXCLUDED.event_time,
        next_check_at = CASE
          WHEN NOT EXCLUDED.connected THEN NULL
          WHEN t.connected AND t.check_interval_s IS NOT DISTINCT FROM EXCLUDED.check_interval_s THEN t.next_check_at
          ELSE EXCLUDED.next_check_at END
      WHERE t.event_time <= EXCLUDED.event_time
     RETURNING connected, (SELECT connected FROM before) AS was`,
    [
      i.id,
      i.tenant_id,
      i.name,
      i.status === 'CONNECTED',
      i.config.schemas?.length ?? null,
      i.config.healthCheckIntervalSeconds ?? null,
      eventTime,
      defaultIntervalMs,
    ],
  );
  const r = rows[0];
  return r ? { connected: r.connected, changed: r.was !== r.connected } : null;
}

/** Forgets a deleted integration and everything the monitor recorded about it. */
export async function forgetIntegration(tx: Db, id: string): Promise<void> {
  for (const table of ['integrations WHERE id', 'integration_health WHERE integration_id', 'health_checks WHERE integration_id', 'health_transitions WHERE integration_id', 'rollups WHERE integration_id'])
    await tx.query(`DELETE FROM ${table} = $1`, [id]);
}

/**
 * Claims the integrations whose check is due, at most `limit`: each claimed
 * row's next check moves one (jittered ±10%) interval ahead as it is claimed,
 * so replicas never take the same one (SKIP LOCKED), and a replica that dies
 * mid-check only delays that integration to its next turn.
 */
export async function claimDue(pool: Pool, limit: number, defaultIntervalMs: number): Promise<{ id: string; tenant_id: string }[]> {
  const { rows } = await pool.query<{ id: string; tenant_id: string }>(
    `UPDATE integrations SET next_check_at = now() + make_interval(secs => COALESCE(check_interval_s, $2::int / 1000.0) * (0.9 + random() * 0.2))
      WHERE id IN (SELECT id FROM integrations WHERE connected AND next_check_at <= now()
                    ORDER BY next_check_at LIMIT $1 FOR UPDATE SKIP LOCKED)
      RETURNING id, tenant_id`,
    [limit, defaultIntervalMs],
  );
  return rows;
}

export async function getRegistered(db: Db, tenantId: string, id: string): Promise<Registered | undefined> {
  const { rows } = await db.query<Registered>('SELECT * FROM integrations WHERE id = $1 AND tenant_id = $2', [id, tenantId]);
  return rows[0];
}

export async function listRegistered(db: Db, filter: { tenantId?: string; integrationId?: string }): Promise<Registered[]> {
  const { rows } = await db.query<Registered>(
    `SELECT * FROM integrations WHERE ($1::text IS NULL OR tenant_id = $1) AND ($2::uuid IS NULL OR id = $2) ORDER BY id LIMIT 10000`,
    [filter.tenantId ?? null, filter.integrationId ?? null],
  );
  return rows;
}
