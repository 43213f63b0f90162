import type { HealthCheck, HealthState, HealthTransition, IntegrationHealth } from '@switchyard/contracts';
import { writeEvent, type Pool, type PoolClient } from '@switchyard/kit';
import { decide, FRESH, type HealthCounters, type Observation } from '../domain/health.ts';
import { SOURCE } from './source.ts';

interface HealthRow extends HealthCounters {
  state: HealthState;
  reason: string;
  since: Date | null;
  last_checked_at: Date | null;
}

/** How many checks are kept per integration: the API returns at most 100. */
const KEEP_CHECKS = 100;

async function lockHealth(tx: PoolClient, integrationId: string, tenantId: string): Promise<HealthRow> {
  await tx.query(
    `INSERT INTO integration_health (integration_id, tenant_id, state, reason, streak) VALUES ($1, $2, 'unknown', 'not checked yet', $3)
     ON CONFLICT (integration_id) DO NOTHING`,
    [integrationId, tenantId, FRESH.streak],
  );
  const { rows } = await tx.query<HealthRow & { test_failures: number; sync_failures: number }>(
    'SELECT * FROM integration_health WHERE integration_id = $1 FOR UPDATE',
    [integrationId],
  );
  const r = rows[0]!;
  return { ...r, testFailures: r.test_failures, syncFailures: r.sync_failures };
}

/** Moves an integration to a state: a change is recorded in its history and announced (events.integration.health_changed). */
async function setState(tx: PoolClient, integrationId: string, tenantId: string, from: HealthRow, to: { state: HealthState; reason: string } & HealthCounters, at: Date) {
  const changed = from.state !== to.state;
  await tx.query(
    `UPDATE integration_health SET state = $2, reason = $3, since = CASE WHEN $7 THEN $4::timestamptz ELSE since END,
            test_failures = $5, sync_failures = $6, streak = $8, last_checked_at = GREATEST(last_checked_at, $4::timestamptz)
      WHERE integration_id = $1`,
    [integrationId, to.state, to.reason, at, to.testFailures, to.syncFailures, changed, to.streak],
  );
  if (!changed) return false;
  await tx.query('INSERT INTO health_transitions (integration_id, from_state, to_state, reason, at) VALUES ($1, $2, $3, $4, $5)', [
    integrationId,
    from.state,
    to.state,
    to.reason,
    at,
  ]);
  await writeEvent(
    tx,
    SOURCE,
    'events.integration.health_changed',
    { integration_id: integrationId, tenant_id: tenantId, from: from.state, to: to.state, reason: to.reason, at: at.toISOString() },
    { tenantId, about: integrationId },
  );
  return true;
}

/** Records one check and moves the health state as the state machine says, in the caller's transaction. */
export async function observe(
  tx: PoolClient,
  c: { integrationId: string; tenantId: string; observation: Observation; message: string | null; trigger: string; at: Date },
): Promise<{ state: HealthState; changed: boolean }> {
  const current = await lockHealth(tx, c.integrationId, c.tenantId);
  const o = c.observation;
  await tx.query(
    `INSERT INTO health_checks (integration_id, kind, ok, latency_ms, error_code, error_message, trigger, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [c.integrationId, o.kind, o.ok, o.latencyMs, o.errorCode, c.message, c.trigger, c.at],
  );
  await tx.query(
    `DELETE FROM health_checks WHERE integration_id = $1 AND id < (
       SELECT id FROM health_checks WHERE integration_id = $1 ORDER BY id DESC OFFSET $2 LIMIT 1)`,
    [c.integrationId, KEEP_CHECKS - 1],
  );
  const verdict = decide(current, o);
  const changed = await setState(tx, c.integrationId, c.tenantId, current, verdict, c.at);
  return { state: verdict.state, changed };
}

/** A disconnected integration is not checked: its health is unknown until it is connected and checked again. */
export async function markUnchecked(tx: PoolClient, integrationId: string, tenantId: string, reason: string): Promise<void> {
  const current = await lockHealth(tx, integrationId, tenantId);
  await setState(tx, integrationId, tenantId, current, { state: 'unknown', reason, ...FRESH }, new Date());
}

export async function readHealth(
  pool: Pool,
  tenantId: string,
  integrationId: string,
  limit: number,
  defaults: { intervalS: number },
): Promise<IntegrationHealth> {
  const [{ rows: h }, { rows: reg }, { rows: checks }, { rows: history }] = await Promise.all([
    pool.query<HealthRow>('SELECT * FROM integration_health WHERE integration_id = $1 AND tenant_id = $2', [integrationId, tenantId]),
    pool.query<{ connected: boolean; next_check_at: Date | null; check_interval_s: number | null }>(
      'SELECT connected, next_check_at, check_interval_s FROM integrations WHERE id = $1 AND tenant_id = $2',
      [integrationId, tenantId],
    ),
    pool.query<{ kind: HealthCheck['kind']; ok: boolean; latency_ms: number | null; error_code: string | null; error_message: string | null; trigger: string; at: Date }>(
      `SELECT c.* FROM health_checks c JOIN integration_health h USING (integration_id)
        WHERE c.integration_id = $1 AND h.tenant_id = $2 ORDER BY c.at DESC, c.id DESC LIMIT $3`,
      [integrationId, tenantId, limit],
    ),
    pool.query<{ from_state: HealthState; to_state: HealthState; reason: string; at: Date }>(
      `SELECT t.* FROM health_transitions t JOIN integration_health h USING (integration_id)
        WHERE t.integration_id = $1 AND h.tenant_id = $2 ORDER BY t.at DESC, t.id DESC LIMIT $3`,
      [integrationId, tenantId, limit],
    ),
  ]);
  const row = h[0];
  const r = reg[0];
  return {
    integration_id: integrationId,
    state: row?.state ?? 'unknown',
    reason: row?.reason ?? 'not checked yet',
    since: row?.since?.toISOString() ?? null,
    last_checked_at: row?.last_checked_at?.toISOString() ?? null,
    next_check_at: r?.connected ? (r.next_check_at?.toISOString() ?? null) : null,
    check_interval_seconds: r?.check_interval_s ?? defaults.intervalS,
    checks: checks.map(
      (c): HealthCheck => ({
        kind: c.kind,
        ok: c.ok,
        latency_ms: c.latency_ms,
        error: c.error_code ? { code: c.error_code, message: c.error_message ?? c.error_code } : null,
        trigger: c.trigger,
        at: c.at.toISOString(),
      }),
    ),
    history: history.map((t): HealthTransition => ({ from: t.from_state, to: t.to_state, reason: t.reason, at: t.at.toISOString() })),
  };
}

/** States of a tenant's integrations, counted (the report). */
export async function healthCounts(pool: Pool, tenantId: string): Promise<Record<HealthState, number>> {
  const { rows } = await pool.query<{ state: HealthState; n: number }>(
    `SELECT COALESCE(h.state, 'unknown') AS state, count(*)::int AS n FROM integrations i
       LEFT JOIN integration_health h ON h.integration_id = i.id WHERE i.tenant_id = $1 GROUP BY 1`,
    [tenantId],
  );
  const out: Record<HealthState, number> = { healthy: 0, degraded: 0, unhealthy: 0, unknown: 0 };
  for (const r of rows) out[r.state] = r.n;
  return out;
}

export async function stateOf(pool: Pool, integrationId: string): Promise<HealthState> {
  const { rows } = await pool.query<{ state: HealthState }>('SELECT state FROM integration_health WHERE integration_id = $1', [integrationId]);
  return rows[0]?.state ?? 'unknown';
}

export async function pruneHealth(pool: Pool, retentionDays: number): Promise<void> {
  await pool.query('DELETE FROM health_transitions WHERE at < now() - make_interval(days => $1)', [retentionDays]);
}
