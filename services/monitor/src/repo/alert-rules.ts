import { randomUUID } from 'node:crypto';
import type { AlertRule, AlertScope, CreateAlertRuleBody, UpdateAlertRuleBody } from '@switchyard/contracts';
import { AppError, type Pool, type PoolClient } from '@switchyard/kit';
import { SYSTEM_SEEDS, TENANT_SEEDS } from '../domain/seeds.ts';

type Db = Pool | PoolClient;

export interface RuleRow {
  id: string;
  tenant_id: string;
  name: string;
  metric: AlertRule['metric'];
  comparator: AlertRule['comparator'];
  threshold: number;
  window_text: string;
  for_text: string;
  severity: AlertRule['severity'];
  scope_type: AlertScope['type'];
  integration_id: string | null;
  enabled: boolean;
  seed: string | null;
  created_at: Date;
  updated_at: Date;
}

export const scopeOf = (r: RuleRow): AlertScope =>
  r.scope_type === 'integration' ? { type: 'integration', integration_id: r.integration_id! } : { type: r.scope_type };

export const toRule = (r: RuleRow): AlertRule => ({
  id: r.id,
  name: r.name,
  metric: r.metric,
  comparator: r.comparator,
  threshold: r.threshold,
  window: r.window_text,
  for: r.for_text,
  severity: r.severity,
  scope: scopeOf(r),
  enabled: r.enabled,
  seeded: r.seed !== null,
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
});

async function insertRule(db: Db, tenantId: string, b: Omit<CreateAlertRuleBody, 'enabled'> & { enabled?: boolean }, seed: string | null) {
  const { rows } = await db.query<RuleRow>(
    `INSERT INTO alert_rules (id, tenant_id, name, metric, comparator, threshold, window_text, for_text, severity, scope_type, integration_id, enabled, seed)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (tenant_id, seed) DO NOTHING RETURNING *`,
    [
      randomUUID(),
      tenantId,
      b.name,
      b.metric,
      b.comparator,
      b.threshold,
      b.window,
      b.for,
      b.severity,
      b.scope.type,
      b.scope.type === 'integration' ? b.scope.integration_id : null,
      b.enabled ?? true,
      seed,
    ],
  );
  return rows[0];
}

/** Seeds a tenant's default rules the first time the monitor meets it (never again: a deleted default stays deleted). */
export async function seedTenantRules(db: Db, tenantId: string): Promise<void> {
  const { rowCount } = await db.query('INSERT INTO seeded_tenants (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING', [tenantId]);
  if (!rowCount) return;
  for (const { key, ...seed } of TENANT_SEEDS) await insertRule(db, tenantId, seed, key);
}

/** Seeds the operator's operational rules, once, under a key of their own. */
export async function seedSystemRules(db: Db, operatorTenant: string): Promise<void> {
  const { rowCount } = await db.query('INSERT INTO seeded_tenants (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING', [`system:${operatorTenant}`]);
  if (!rowCount) return;
  for (const { key, ...seed } of SYSTEM_SEEDS) await insertRule(db, operatorTenant, seed, `system:${key}`);
}

export interface Caller {
  tenant_id: string;
  operator: boolean;
}

/** What a caller sees: its tenant's rules; the platform operator also every system rule. */
const VISIBLE = `(tenant_id = $1 AND scope_type <> 'system') OR ($2 AND scope_type = 'system')`;

export async function listRules(db: Db, c: Caller): Promise<AlertRule[]> {
  const { rows } = await db.query<RuleRow>(`SELECT * FROM alert_rules WHERE ${VISIBLE} ORDER BY created_at, id`, [c.tenant_id, c.operator]);
  return rows.map(toRule);
}

export async function createRule(db: Db, c: Caller, body: CreateAlertRuleBody): Promise<AlertRule> {
  if (body.scope.type === 'system' && !c.operator) throw new AppError('FORBIDDEN', 'system rules are for the platform operator');
  const row = await insertRule(db, c.tenant_id, body, null);
  return toRule(row!);
}

export async function updateRule(db: Db, c: Caller, id: string, b: UpdateAlertRuleBody): Promise<{ rule: AlertRule; before: RuleRow }> {
  const before = await getRule(db, c, id);
  const { rows } = await db.query<RuleRow>(
    `UPDATE alert_rules SET name = COALESCE($3, name), comparator = COALESCE($4, comparator), threshold = COALESCE($5, threshold),
            window_text = COALESCE($6, window_text), for_text = COALESCE($7, for_text), severity = COALESCE($8, severity),
            enabled = COALESCE($9, enabled), updated_at = date_trunc('milliseconds', clock_timestamp())
      WHERE id = $1 AND tenant_id = $2 RETURNING *`,
    [id, before.tenant_id, b.name ?? null, b.comparator ?? null, b.threshold ?? null, b.window ?? null, b.for ?? null, b.severity ?? null, b.enabled ?? null],
  );
  return { rule: toRule(rows[0]!), before };
}

export async function deleteRule(db: Db, c: Caller, id: string): Promise<void> {
  const rule = await getRule(db, c, id);
  await db.query('DELETE FROM alert_rules WHERE id = $1', [rule.id]);
}

async function getRule(db: Db, c: Caller, id: string): Promise<RuleRow> {
  const { rows } = await db.query<RuleRow>(`SELECT * FROM alert_rules WHERE id = $3 AND (${VISIBLE}) FOR UPDATE`, [c.tenant_id, c.operator, id]);
  if (!rows[0]) throw new AppError('NOT_FOUND', `alert rule ${id} not found`);
  return rows[0];
}

export async function enabledRules(db: Db): Promise<RuleRow[]> {
  const { rows } = await db.query<RuleRow>('SELECT * FROM alert_rules WHERE enabled ORDER BY id');
  return rows;
}
