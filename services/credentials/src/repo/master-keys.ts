import type { Pool, PoolClient } from '@switchyard/kit';
import type { Sealed } from '../envelope.ts';

type Db = Pool | PoolClient;

export interface MasterKeyRow {
  id: string;
  material: Buffer;
  material_iv: Buffer;
  material_tag: Buffer;
  created_at: Date;
  retired_at: Date | null;
}

export const wrappedOf = (row: MasterKeyRow): Sealed => ({ data: row.material, iv: row.material_iv, tag: row.material_tag });

const COLUMNS = 'id, material, material_iv, material_tag, created_at, retired_at';

export async function listMasterKeys(db: Db): Promise<MasterKeyRow[]> {
  const { rows } = await db.query<MasterKeyRow>(`SELECT ${COLUMNS} FROM master_keys ORDER BY seq`);
  return rows;
}

export async function getMasterKey(db: Db, id: string): Promise<MasterKeyRow | undefined> {
  const { rows } = await db.query<MasterKeyRow>(`SELECT ${COLUMNS} FROM master_keys WHERE id = $1`, [id]);
  return rows[0];
}

/** The active key: the newest one not retired. */
export async function activeMasterKeyId(db: Db): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    'SELECT id FROM master_keys WHERE retired_at IS NULL ORDER BY seq DESC LIMIT 1',
  );
  return rows[0]?.id;
}

export async function insertMasterKey(db: Db, id: string, wrapped: Sealed): Promise<void> {
  await db.query('INSERT INTO master_keys (id, material, material_iv, material_tag) VALUES ($1, $2, $3, $4)', [
    id,
    wrapped.data,
    wrapped.iv,
    wrapped.tag,
  ]);
}

/** Replaces a key's wrapping (root key rotation) unless another replica already did. */
export async function rewrapMasterKey(db: Db, id: string, before: Sealed, after: Sealed): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE master_keys SET material = $3, material_iv = $4, material_tag = $5
      WHERE id = $1 AND material = $2`,
    [id, before.data, after.data, after.iv, after.tag],
  );
  return (rowCount ?? 0) > 0;
}

/** Serialises ring set-up across replicas starting together (released at commit). */
export async function lockKeyRing(tx: PoolClient, schema: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`switchyard:credentials:key-ring:${schema}`]);
}

/**
 * Before writing a record under `id`: holds a share lock on the key row until
 * commit, so the key cannot be retired while the write is in flight, and says
 * whether the key is still the active one (it may not be on a replica that has
 * not heard of a rotation yet).
 */
export async function lockKeyForWrite(tx: PoolClient, id: string): Promise<'active' | 'stale'> {
  const { rows } = await tx.query<{ active: boolean }>(
    `SELECT k.id = (SELECT id FROM master_keys WHERE retired_at IS NULL ORDER BY seq DESC LIMIT 1) AS active
       FROM master_keys k
      WHERE k.id = $1 AND k.retired_at IS NULL
        FOR SHARE OF k`,
    [id],
  );
  return rows[0]?.active ? 'active' : 'stale';
}

/**
 * Retires a key no record uses any more. The row lock waits for writes that
 * hold the key (lockKeyForWrite), and the count runs after it, so a record
 * committed by such a write is seen and the key stays.
 */
export async function retireIfUnused(tx: PoolClient, id: string): Promise<boolean> {
  const { rows } = await tx.query('SELECT 1 FROM master_keys WHERE id = $1 AND retired_at IS NULL FOR NO KEY UPDATE', [id]);
  if (!rows.length) return false;
  const used = await tx.query('SELECT 1 FROM credentials WHERE master_key_id = $1 LIMIT 1', [id]);
  if (used.rows.length) return false;
  await tx.query('UPDATE master_keys SET retired_at = now() WHERE id = $1', [id]);
  return true;
}

export interface KeyUsage {
  id: string;
  created_at: Date;
  retired: boolean;
  records: number;
}

/** Every key, oldest first, with how many records it wraps. */
export async function keyUsage(db: Db): Promise<KeyUsage[]> {
  const { rows } = await db.query<KeyUsage>(
    `SELECT k.id, k.created_at, k.retired_at IS NOT NULL AS retired, count(c.id)::int AS records
       FROM master_keys k LEFT JOIN credentials c ON c.master_key_id = k.id
      GROUP BY k.id ORDER BY k.seq`,
  );
  return rows;
}

/** The active key id, share-locked until commit so it cannot be retired while records move onto it. */
export async function lockActiveMasterKey(tx: PoolClient): Promise<string | undefined> {
  const { rows } = await tx.query<{ id: string }>(
    'SELECT id FROM master_keys WHERE retired_at IS NULL ORDER BY seq DESC LIMIT 1 FOR SHARE',
  );
  return rows[0]?.id;
}

/** Keys older than the active one and not yet retired: retired once no record uses them. */
export async function keysToRetire(db: Db): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM master_keys
      WHERE retired_at IS NULL AND seq < (SELECT max(seq) FROM master_keys WHERE retired_at IS NULL)
      ORDER BY seq`,
  );
  return rows.map((r) => r.id);
}
