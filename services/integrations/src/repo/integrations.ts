import type { Integration, IntegrationConfig, IntegrationStatus, ListIntegrationsQuery, PostgresCredential } from '@switchyard/contracts';
import { AppError, decodeCursor, pageOf, type Pool, type PoolClient } from '@switchyard/kit';

interface Row {
  id: string;
  tenant_id: string;
  type: 'POSTGRESQL';
  name: string;
  status: IntegrationStatus;
  config: IntegrationConfig;
  target: Integration['target'];
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, tenant_id, type, name, status, config, target, created_at, updated_at';

export const toIntegration = (r: Row): Integration => ({
  id: r.id,
  tenant_id: r.tenant_id,
  integration_type: r.type,
  name: r.name,
  status: r.status,
  config: r.config,
  target: r.target,
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
});

export const targetOf = (c: PostgresCredential): Integration['target'] => ({
  host: c.host,
  port: c.port,
  database_name: c.database_name,
  username: c.username,
});

export async function insertIntegration(
  tx: PoolClient,
  i: { id: string; tenantId: string; name: string; config: IntegrationConfig; target: Integration['target'] },
): Promise<Integration> {
  const { rows } = await tx.query<Row>(
    `INSERT INTO integrations (id, tenant_id, type, name, status, config, target)
     VALUES ($1, $2, 'POSTGRESQL', $3, 'CONNECTED', $4, $5) RETURNING ${COLUMNS}`,
    [i.id, i.tenantId, i.name, i.config, i.target],
  );
  return toIntegration(rows[0]!);
}

/** The tenant's integration, or NOT_FOUND (another tenant's is not found either). */
export async function getIntegration(db: Pool | PoolClient, tenantId: string, id: string, forUpdate = false): Promise<Integration> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM integrations WHERE id = $1 AND tenant_id = $2 ${forUpdate ? 'FOR UPDATE' : ''}`,
    [id, tenantId],
  );
  if (!rows[0]) throw new AppError('NOT_FOUND', `integration ${id} not found`);
  return toIntegration(rows[0]);
}

export async function updateIntegration(
  tx: PoolClient,
  tenantId: string,
  id: string,
  patch: { name?: string; config?: IntegrationConfig; status?: IntegrationStatus; target?: Integration['target'] },
): Promise<Integration> {
  const { rows } = await tx.query<Row>(
    `UPDATE integrations SET
        name = COALESCE($3, name), config = COALESCE($4, config), status = COALESCE($5, status),
        target = COALESCE($6, target), updated_at = clock_timestamp()
      WHERE id = $1 AND tenant_id = $2 RETURNING ${COLUMNS}`,
    [id, tenantId, patch.name ?? null, patch.config ?? null, patch.status ?? null, patch.target ?? null],
  );
  if (!rows[0]) throw new AppError('NOT_FOUND', `integration ${id} not found`);
  return toIntegration(rows[0]);
}

export async function deleteIntegration(tx: PoolClient, tenantId: string, id: string): Promise<void> {
  const { rowCount } = await tx.query('DELETE FROM integrations WHERE id = $1 AND tenant_id = $2', [id, tenantId]);
  if (!rowCount) throw new AppError('NOT_FOUND', `integration ${id} not found`);
}

export async function listIntegrations(
  pool: Pool,
  tenantId: string,
  q: ListIntegrationsQuery,
): Promise<{ data: Integration[]; next_cursor: string | null }> {
  const after = q.cursor ? decodeCursor(q.cursor) : null;
  const { rows } = await pool.query<Row>(
    `SELECT ${COLUMNS} FROM integrations
      WHERE tenant_id = $1 AND ($2::text IS NULL OR type = $2) AND ($3::text IS NULL OR status = $3)
        AND ($4::timestamptz IS NULL OR (created_at, id) < ($4::timestamptz, $5::uuid))
      ORDER BY created_at DESC, id DESC LIMIT $6`,
    [tenantId, q.type ?? null, q.status ?? null, after?.at ?? null, after?.id ?? null, q.limit + 1],
  );
  return pageOf(rows, q.limit, (r) => [r.created_at, r.id], toIntegration);
}
