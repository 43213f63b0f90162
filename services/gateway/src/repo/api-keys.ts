import { randomUUID } from 'node:crypto';
import type { ApiKey, CreatedApiKey, Role } from '@switchyard/contracts';
import { AppError, decodeCursor, pageOf, withTransaction, writeEvent, type Pool } from '@switchyard/kit';
import { generateKey, hashKey } from '../keys.ts';

interface Row {
  id: string;
  tenant_id: string;
  name: string;
  role: Role;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
}

const toApiKey = (r: Row): ApiKey => ({
  id: r.id,
  tenant_id: r.tenant_id,
  name: r.name,
  role: r.role,
  prefix: r.prefix,
  created_at: r.created_at.toISOString(),
  last_used_at: r.last_used_at?.toISOString() ?? null,
});

export interface Principal {
  keyId: string;
  tenantId: string;
  role: Role;
  /** The key belongs to the platform operator's tenant. */
  operator: boolean;
}

/**
 * Creates a key (and its tenant on first use) and announces it, in one
 * transaction. `operator` makes the tenant the platform operator's (never
 * the reverse: only the CLI sets it, and nothing here takes it away).
 */
export async function createApiKey(
  pool: Pool,
  input: { tenantId: string; name: string; role: Role; operator?: boolean },
): Promise<CreatedApiKey> {
  const { key, prefix, hash } = generateKey();
  const id = randomUUID();
  return withTransaction(pool, async (tx) => {
    await tx.query(
      `INSERT INTO tenants (id, name, operator) VALUES ($1, $1, $2)
       ON CONFLICT (id) DO UPDATE SET operator = tenants.operator OR EXCLUDED.operator`,
      [input.tenantId, input.operator ?? false],
    );
    const { rows } = await tx.query<Row>(
      `INSERT INTO api_keys (id, tenant_id, name, role, prefix, key_hash) VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING id, tenant_id, name, role, prefix, created_at, last_used_at`,
      [id, input.tenantId, input.name, input.role, prefix, hash],
    );
    await writeEvent(
      tx,
      'switchyard/gateway',
      'events.api_key.created',
      { key_id: id, tenant_id: input.tenantId, role: input.role, name: input.name },
      { tenantId: input.tenantId, about: id },
    );
    return { ...toApiKey(rows[0]!), key };
  });
}

export async function findPrincipal(pool: Pool, key: string): Promise<Principal | undefined> {
  const { rows } = await pool.query<{ id: string; tenant_id: string; role: Role; operator: boolean; stale: boolean }>(
    `SELECT k.id, k.tenant_id, k.role, t.operator, (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute') AS stale
       FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
    [hashKey(key)],
  );
  const row = rows[0];
  if (!row) return undefined;
  // last_used_at is advisory: written at most once a minute, off the request path.
  if (row.stale) void pool.query('UPDATE api_keys SET last_used_at = now() WHERE id = $1', [row.id]).catch(() => {});
  return { keyId: row.id, tenantId: row.tenant_id, role: row.role, operator: row.operator };
}

export async function listApiKeys(
  pool: Pool,
  tenantId: string,
  page: { limit: number; cursor?: string },
): Promise<{ data: ApiKey[]; next_cursor: string | null }> {
  const after = page.cursor ? decodeCursor(page.cursor) : null;
  const { rows } = await pool.query<Row>(
    `SELECT id, tenant_id, name, role, prefix, created_at, last_used_at FROM api_keys
      WHERE tenant_id = $1 AND revoked_at IS NULL
        AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
      ORDER BY created_at DESC, id DESC LIMIT $4`,
    [tenantId, after?.at ?? null, after?.id ?? null, page.limit + 1],
  );
  return pageOf(rows, page.limit, (r) => [r.created_at, r.id], toApiKey);
}

/** Revokes a key of the tenant; another tenant's key is simply not found. */
export async function revokeApiKey(pool: Pool, tenantId: string, id: string): Promise<void> {
  await withTransaction(pool, async (tx) => {
    const { rowCount } = await tx.query(
      'UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND tenant_id = $2 AND revoked_at IS NULL',
      [id, tenantId],
    );
    if (!rowCount) throw new AppError('NOT_FOUND', `API key ${id} not found`);
    await writeEvent(tx, 'switchyard/gateway', 'events.api_key.revoked', { key_id: id, tenant_id: tenantId }, { tenantId, about: id });
  });
}

export async function revokeApiKeysNamed(pool: Pool, tenantId: string, name: string): Promise<number> {
  const { rows } = await pool.query<{ id: string }>(
    'SELECT id FROM api_keys WHERE tenant_id = $1 AND name = $2 AND revoked_at IS NULL',
    [tenantId, name],
  );
  for (const { id } of rows) await revokeApiKey(pool, tenantId, id);
  return rows.length;
}
