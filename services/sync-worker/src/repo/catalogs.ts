import type { Catalog, CatalogRelation, Relationship, SchemaFilter } from '@switchyard/contracts';
import type { Pool, PoolClient } from '@switchyard/kit';

type Db = Pool | PoolClient;
const CHUNK = 1_000;

export async function saveSnapshot(
  tx: PoolClient,
  s: { syncId: string; tenantId: string; integrationId: string },
  catalog: Catalog,
): Promise<void> {
  await tx.query(
    `INSERT INTO catalog_snapshots (sync_id, tenant_id, integration_id, server_version, database, discovered_at, schemas, enums)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [s.syncId, s.tenantId, s.integrationId, catalog.server_version, catalog.database, catalog.discovered_at,
      JSON.stringify(catalog.schemas), JSON.stringify(catalog.enums)],
  );
  // In chunks: one statement per thousand relations instead of one per relation.
  for (let i = 0; i < catalog.relations.length; i += CHUNK) {
    await tx.query(
      `INSERT INTO catalog_relations (sync_id, schema_name, name, definition)
       SELECT $1, r->>'schema', r->>'name', r FROM jsonb_array_elements($2::jsonb) AS r`,
      [s.syncId, JSON.stringify(catalog.relations.slice(i, i + CHUNK))],
    );
  }
}

export async function latestSnapshotId(db: Db, tenantId: string, integrationId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ sync_id: string }>(
    `SELECT sync_id FROM catalog_snapshots WHERE tenant_id = $1 AND integration_id = $2 ORDER BY discovered_at DESC LIMIT 1`,
    [tenantId, integrationId],
  );
  return rows[0]?.sync_id;
}

export const relationshipsOf = (relations: CatalogRelation[]): Relationship[] =>
  relations.flatMap((r) =>
    r.foreign_keys.map((fk) => ({
      name: fk.name,
      from: { schema: r.schema, table: r.name, columns: fk.columns },
      to: fk.references,
    })),
  );

interface HeadRow {
  server_version: string;
  database: string;
  discovered_at: Date;
  schemas: Catalog['schemas'];
  enums: Catalog['enums'];
}
export type SnapshotHead = Omit<Catalog, 'relations' | 'relationships'>;

const toHead = (h: HeadRow, schema?: string): SnapshotHead => ({
  server_version: h.server_version,
  database: h.database,
  discovered_at: h.discovered_at.toISOString(),
  schemas: schema ? h.schemas.filter((s) => s.name === schema) : h.schemas,
  enums: schema ? h.enums.filter((e) => e.schema === schema) : h.enums,
});

/** A whole stored snapshot (what the next sync compares with). */
export async function loadSnapshot(db: Db, syncId: string): Promise<Catalog | undefined> {
  const head = await db.query<HeadRow>('SELECT server_version, database, discovered_at, schemas, enums FROM catalog_snapshots WHERE sync_id = $1', [syncId]);
  const h = head.rows[0];
  if (!h) return undefined;
  const { rows } = await db.query<{ definition: CatalogRelation }>(
    'SELECT definition FROM catalog_relations WHERE sync_id = $1 ORDER BY schema_name, name',
    [syncId],
  );
  const relations = rows.map((r) => r.definition);
  return { ...toHead(h), relations, relationships: relationshipsOf(relations) };
}

/**
 * The head of a snapshot (schemas and enums, narrowed to one schema), when it
 * is the integration's: undefined when it is another's or gone.
 */
export async function snapshotHead(
  db: Db,
  s: { syncId: string; tenantId: string; integrationId: string },
  schema?: string,
): Promise<SnapshotHead | undefined> {
  const { rows } = await db.query<HeadRow>(
    `SELECT server_version, database, discovered_at, schemas, enums FROM catalog_snapshots
      WHERE sync_id = $1 AND tenant_id = $2 AND integration_id = $3`,
    [s.syncId, s.tenantId, s.integrationId],
  );
  return rows[0] && toHead(rows[0], schema);
}

/**
 * Up to `limit` relations of a snapshot, by schema and name, after `after`:
 * a range of the primary key, so a page reads only its own rows.
 */
export async function relationPage(
  db: Db,
  syncId: string,
  filter: SchemaFilter,
  after: { schema: string; name: string } | undefined,
  limit: number,
): Promise<CatalogRelation[]> {
  const { rows } = await db.query<{ definition: CatalogRelation }>(
    `SELECT definition FROM catalog_relations WHERE sync_id = $1
        AND ($2::text IS NULL OR schema_name = $2) AND ($3::text IS NULL OR name = $3)
        AND ($4::text IS NULL OR (schema_name, name) > ($4::text, $5::text))
      ORDER BY schema_name, name LIMIT $6`,
    [syncId, filter.schema ?? null, filter.table ?? null, after?.schema ?? null, after?.name ?? null, limit],
  );
  return rows.map((r) => r.definition);
}
