import { randomUUID } from 'node:crypto';
import type { Alert, AlertList, AlertsQuery } from '@switchyard/contracts';
import { decodeCursor, pageOf, writeEvent, type Pool, type PoolClient } from '@switchyard/kit';
import { scopeOf, toRule, type Caller, type RuleRow } from './alert-rules.ts';
import { SOURCE } from './source.ts';

export interface AlertRow {
  id: string;
  rule_id: string;
  tenant_id: string;
  rule: ReturnType<typeof toRule>;
  series: string;
  labels: Record<string, string>;
  integration_id: string | null;
  state: 'pending' | 'firing' | 'resolved';
  value: number | null;
  active_since: Date;
  clear_since: Date | null;
  fired_at: Date | null;
  resolved_at: Date | null;
  created_at: Date;
}

export const toAlert = (r: AlertRow): Alert => ({
  id: r.id,
  rule_id: r.rule_id,
  rule_name: r.rule.name,
  metric: r.rule.metric,
  comparator: r.rule.comparator,
  threshold: r.rule.threshold,
  severity: r.rule.severity,
  scope: r.rule.scope,
  integration_id: r.integration_id,
  series: r.series,
  labels: r.labels,
  state: r.state === 'resolved' ? 'resolved' : 'firing',
  value: r.value,
  fired_at: (r.fired_at ?? r.active_since).toISOString(),
  resolved_at: r.resolved_at?.toISOString() ?? null,
});

/** The alerts of a rule still open (pending or firing), by series. */
export async function openAlerts(tx: PoolClient, ruleId: string): Promise<Map<string, AlertRow>> {
  const { rows } = await tx.query<AlertRow>(`SELECT * FROM alerts WHERE rule_id = $1 AND state IN ('pending', 'firing')`, [ruleId]);
  return new Map(rows.map((r) => [r.series, r]));
}

/** Every open alert (to resolve those whose rule went away or was disabled). */
export async function allOpen(tx: PoolClient): Promise<AlertRow[]> {
  const { rows } = await tx.query<AlertRow>(`SELECT * FROM alerts WHERE state IN ('pending', 'firing')`);
  return rows;
}

export async function openPending(tx: PoolClient, rule: RuleRow, s: { series: string; labels: Record<string, string>; integrationId: string | null; value: number }, now: Date): Promise<AlertRow> {
  const { rows } = await tx.query<AlertRow>(
    `INSERT INTO alerts (id, rule_id, tenant_id, rule, series, labels, integration_id, state, value, active_since)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9) RETURNING *`,
    [randomUUID(), rule.id, rule.tenant_id, { ...toRule(rule), scope: scopeOf(rule) }, s.series, s.labels, s.integrationId, s.value, now],
  );
  return rows[0]!;
}

/** pending → firing, announced once (the row moves only from pending, in this transaction). */
export async function fire(tx: PoolClient, a: AlertRow, value: number, now: Date): Promise<void> {
  const { rows } = await tx.query<AlertRow>(
    `UPDATE alerts SET state = 'firing', fired_at = $2, value = $3, clear_since = NULL WHERE id = $1 AND state = 'pending' RETURNING *`,
    [a.id, now, value],
  );
  if (rows[0]) await writeEvent(tx, SOURCE, 'events.alert.fired', { alert: toAlert(rows[0]) }, { tenantId: rows[0].tenant_id, about: rows[0].id });
}

/** firing → resolved, announced once; a pending alert that never fired is dropped without a word. */
export async function resolve(tx: PoolClient, a: AlertRow, value: number | null, now: Date): Promise<void> {
  if (a.state === 'pending') {
    await tx.query(`DELETE FROM alerts WHERE id = $1 AND state = 'pending'`, [a.id]);
    return;
  }
  const { rows } = await tx.query<AlertRow>(
    `UPDATE alerts SET state = 'resolved', resolved_at = $2, value = COALESCE($3, value) WHERE id = $1 AND state = 'firing' RETURNING *`,
    [a.id, now, value],
  );
  if (rows[0]) await writeEvent(tx, SOURCE, 'events.alert.resolved', { alert: toAlert(rows[0]) }, { tenantId: rows[0].tenant_id, about: rows[0].id });
}

export async function touch(tx: PoolClient, a: AlertRow, patch: { value: number | null; clearSince: Date | null }): Promise<void> {
  await tx.query('UPDATE alerts SET value = COALESCE($2, value), clear_since = $3 WHERE id = $1', [a.id, patch.value, patch.clearSince]);
}

/** What a caller sees: its tenant's alerts; the platform operator also every system alert. Pending ones are not alerts yet. */
export async function listAlerts(pool: Pool, c: Caller, q: AlertsQuery): Promise<AlertList> {
  const after = q.cursor ? decodeCursor(q.cursor) : null;
  const { rows } = await pool.query<AlertRow>(
    `SELECT * FROM alerts
      WHERE ((tenant_id = $1 AND rule->'scope'->>'type' <> 'system') OR ($2 AND rule->'scope'->>'type' = 'system'))
        AND state <> 'pending' AND ($3::text IS NULL OR state = $3)
        AND ($4::timestamptz IS NULL OR (created_at, id) < ($4::timestamptz, $5::uuid))
      ORDER BY created_at DESC, id DESC LIMIT $6`,
    [c.tenant_id, c.operator, q.state ?? null, after?.at ?? null, after?.id ?? null, q.limit + 1],
  );
  return pageOf(rows, q.limit, (r) => [r.created_at, r.id], toAlert);
}

/** Firing alerts by severity (the gauge). */
export async function firingBySeverity(pool: Pool): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ severity: string; n: number }>(
    `SELECT rule->>'severity' AS severity, count(*)::int AS n FROM alerts WHERE state = 'firing' GROUP BY 1`,
  );
  const m = new Map<string, number>([['info', 0], ['warning', 0], ['critical', 0]]);
  for (const r of rows) m.set(r.severity, r.n);
  return m;
}

export async function pruneAlerts(pool: Pool, retentionDays: number): Promise<void> {
  await pool.query(`DELETE FROM alerts WHERE state = 'resolved' AND resolved_at < now() - make_interval(days => $1)`, [retentionDays]);
}
