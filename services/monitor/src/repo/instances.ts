import type { Heartbeat, ServiceInstance, ServiceStatus } from '@switchyard/contracts';
import type { Pool, PoolClient } from '@switchyard/kit';

interface Row {
  instance_id: string;
  service: ServiceInstance['service'];
  version: string;
  host: string;
  pid: number;
  state: ServiceInstance['state'];
  started_at: Date;
  dependencies: ServiceStatus['dependencies'];
  interval_ms: number;
  last_seen: Date;
  fresh: boolean;
}

export async function recordHeartbeat(pool: Pool, beat: Heartbeat): Promise<void> {
  if (beat.stopping) {
    await pool.query('DELETE FROM service_instances WHERE instance_id = $1', [beat.instance_id]);
    return;
  }
  await pool.query(
    `INSERT INTO service_instances
       (instance_id, service, version, host, pid, state, started_at, dependencies, interval_ms, last_seen)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
     ON CONFLICT (instance_id) DO UPDATE SET
       state = EXCLUDED.state, dependencies = EXCLUDED.dependencies,
       interval_ms = EXCLUDED.interval_ms, version = EXCLUDED.version, last_seen = now()`,
    [beat.instance_id, beat.service, beat.version, beat.host, beat.pid, beat.state, beat.started_at, beat.dependencies, beat.interval_ms],
  );
}

/** Live instances: heard from within `staleAfterBeats` of their own interval. */
export async function listInstances(pool: Pool, opts: { staleAfterBeats: number; includeStale: boolean }): Promise<ServiceInstance[]> {
  const { rows } = await pool.query<Row>(
    `SELECT *, last_seen > now() - make_interval(secs => interval_ms * $1 / 1000.0) AS fresh
       FROM service_instances
      ORDER BY service, started_at`,
    [opts.staleAfterBeats],
  );
  return rows
    .filter((r) => opts.includeStale || r.fresh)
    .map((r) => ({
      service: r.service,
      instance_id: r.instance_id,
      version: r.version,
      host: r.host,
      pid: r.pid,
      state: r.state,
      started_at: r.started_at.toISOString(),
      uptime_s: Math.max(0, Math.round((Date.now() - r.started_at.getTime()) / 1000)),
      dependencies: r.dependencies,
      last_seen: r.last_seen.toISOString(),
      healthy: r.fresh && r.state === 'ready' && Object.values(r.dependencies).every((d) => d?.status === 'up'),
    }));
}

/** Forgets instances silent for an hour (crashed without a last heartbeat). */
export async function pruneInstances(pool: Pool): Promise<number> {
  const { rowCount } = await pool.query(`DELETE FROM service_instances WHERE last_seen < now() - interval '1 hour'`);
  return rowCount ?? 0;
}

/**
 * Instances that stopped sending heartbeats without a last one saying they
 * were stopping (a crash, a lost host), by service: 0 for a service whose
 * instances are all live. Forgotten after an hour (pruneInstances).
 */
export async function missingByService(db: Pool | PoolClient, staleAfterBeats: number): Promise<Map<string, number>> {
  const { rows } = await db.query<{ service: string; n: number }>(
    `SELECT service, count(*) FILTER (WHERE last_seen <= now() - make_interval(secs => interval_ms * $1 / 1000.0))::int AS n
       FROM service_instances GROUP BY service`,
    [staleAfterBeats],
  );
  return new Map(rows.map((r) => [r.service, r.n]));
}
