import type { Pool, PoolClient } from '@switchyard/kit';
import type { Owner, SealedSecret, WrappedDek } from '../envelope.ts';

type Db = Pool | PoolClient;

export interface CredentialRow extends SealedSecret {
  id: string;
  tenant_id: string;
  integration_id: string;
  version: number;
}

/** Stores a secret, or replaces it and bumps its version. */
export async function upsertCredential(
  tx: PoolClient,
  id: string,
  owner: Owner,
  s: SealedSecret,
): Promise<{ integration_id: string; master_key_id: string; version: number }> {
  const { rows } = await tx.query<{ integration_id: string; master_key_id: string; version: number }>(
    `INSERT INTO credentials
       (id, tenant_id, integration_id, ciphertext, iv, tag, wrapped_dek, dek_iv, dek_tag, master_key_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (tenant_id, integration_id) DO UPDATE SET
       ciphertext = EXCLUDED.ciphertext, iv = EXCLUDED.iv, tag = EXCLUDED.tag,
       wrapped_dek = EXCLUDED.wrapped_dek, dek_iv = EXCLUDED.dek_iv, dek_tag = EXCLUDED.dek_tag,
       master_key_id = EXCLUDED.master_key_id,
       version = credentials.version + 1, updated_at = now()
     RETURNING integration_id, master_key_id, version`,
    [id, owner.tenant_id, owner.integration_id, s.ciphertext, s.iv, s.tag, s.wrapped_dek, s.dek_iv, s.dek_tag, s.master_key_id],
  );
  return rows[0]!;
}

export async function findCredential(db: Db, owner: Owner): Promise<CredentialRow | undefined> {
  const { rows } = await db.query<CredentialRow>(
    `SELECT id, tenant_id, integration_id, ciphertext, iv, tag, wrapped_dek, dek_iv, dek_tag, master_key_id, version
       FROM credentials WHERE tenant_id = $1 AND integration_id = $2`,
    [owner.tenant_id, owner.integration_id],
  );
  return rows[0];
}

export async function deleteCredential(db: Db, owner: Owner): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM credentials WHERE tenant_id = $1 AND integration_id = $2', [
    owner.tenant_id,
    owner.integration_id,
  ]);
  return (rowCount ?? 0) > 0;
}

/** Records wrapped by any key other than `activeId` (leaving out `skipIds`). */
export async function countNotOnKey(db: Db, activeId: string, skipIds: string[] = []): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM credentials
      WHERE master_key_id = ANY (ARRAY(SELECT id FROM master_keys WHERE id <> $1))
        AND id <> ALL ($2::uuid[])`,
    [activeId, skipIds],
  );
  return rows[0]?.n ?? 0;
}

export interface WrappingRow extends WrappedDek, Owner {
  id: string;
}

/**
 * Locks up to `limit` records not on `activeId` for re-wrapping. SKIP LOCKED
 * lets replicas share the work and never waits on a write in progress.
 */
export async function lockRecordsToRewrap(
  tx: PoolClient,
  activeId: string,
  opts: { limit: number; skipIds: string[] },
): Promise<WrappingRow[]> {
  const { rows } = await tx.query<WrappingRow>(
    `SELECT id, tenant_id, integration_id, wrapped_dek, dek_iv, dek_tag, master_key_id
       FROM credentials
      WHERE master_key_id = ANY (ARRAY(SELECT id FROM master_keys WHERE id <> $1))
        AND id <> ALL ($2::uuid[])
      LIMIT $3
        FOR UPDATE SKIP LOCKED`,
    [activeId, opts.skipIds, opts.limit],
  );
  return rows;
}

/**
 * Stores new DEK wrappings in one statement. version and updated_at describe
 * the secret, which has not changed, so they stay as they are.
 */
export async function updateWrappings(tx: PoolClient, rows: (WrappedDek & { id: string })[]): Promise<void> {
  if (!rows.length) return;
  await tx.query(
    `UPDATE credentials c SET wrapped_dek = u.wrapped_dek, dek_iv = u.dek_iv, dek_tag = u.dek_tag, master_key_id = u.master_key_id
       FROM unnest($1::uuid[], $2::bytea[], $3::bytea[], $4::bytea[], $5::text[])
            AS u(id, wrapped_dek, dek_iv, dek_tag, master_key_id)
      WHERE c.id = u.id`,
    [rows.map((r) => r.id), rows.map((r) => r.wrapped_dek), rows.map((r) => r.dek_iv), rows.map((r) => r.dek_tag), rows.map((r) => r.master_key_id)],
  );
}
