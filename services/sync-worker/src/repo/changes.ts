import type { SchemaChange } from '@switchyard/contracts';
import { decodeCursor, type Pool, type PoolClient } from '@switchyard/kit';

type Db = Pool | PoolClient;

/** Changes a set carries in the list; the whole set is one request away. */
export const PREVIEW = 100;

export async function saveChanges(
  tx: PoolClient,
  c: { syncId: string; previousSyncId: string; tenantId: string; integrationId: string; changes: SchemaChange[] },
): Promise<void> {
  await tx.query(
    `INSERT INTO schema_changes (sync_id, previous_sync_id, tenant_id, integration_id, changes) VALUES ($1, $2, $3, $4, $5)`,
    [c.syncId, c.previousSyncId, c.tenantId, c.integrationId, JSON.stringify(c.changes)],
  );
}

export interface ChangeSetRow {
  sync_id: string;
  previous_sync_id: string;
  detected_at: Date;
  total: number;
  changes: SchemaChange[];
}

/**
 * Up to `limit` change sets of an integration after `cursor`, newest first,
 * each with its first PREVIEW changes and its total: PostgreSQL slices the
 * arrays, so a set of thousands of changes does not travel whole.
 */
export async function listChanges(
  db: Db,
  tenantId: string,
  integrationId: string,
  page: { limit: number; cursor?: string },
): Promise<ChangeSetRow[]> {
  const after = page.cursor ? decodeCursor(page.cursor) : null;
  const { rows } = await db.query<ChangeSetRow>(
    `SELECT sync_id, previous_sync_id, detected_at, jsonb_array_length(changes) AS total,
            jsonb_path_query_array(changes, '$[0 to $to]', jsonb_build_object('to', $6::int)) AS changes
       FROM schema_changes
      WHERE tenant_id = $1 AND integration_id = $2
        AND ($3::timestamptz IS NULL OR (detected_at, sync_id) < ($3::timestamptz, $4::uuid))
      ORDER BY detected_at DESC, sync_id DESC LIMIT $5`,
    [tenantId, integrationId, after?.at ?? null, after?.id ?? null, page.limit, PREVIEW - 1],
  );
  return rows;
}

/** `count` changes of one set from `offset`, with its total; undefined when the set is not the integration's. */
export async function changeSetSlice(
  db: Db,
  s: { tenantId: string; integrationId: string; syncId: string },
  offset: number,
  count: number,
): Promise<ChangeSetRow | undefined> {
  const { rows } = await db.query<ChangeSetRow>(
    `SELECT sync_id, previous_sync_id, detected_at, jsonb_array_length(changes) AS total,
            jsonb_path_query_array(changes, '$[$from to $to]', jsonb_build_object('from', $4::int, 'to', $5::int)) AS changes
       FROM schema_changes WHERE tenant_id = $1 AND integration_id = $2 AND sync_id = $3`,
    [s.tenantId, s.integrationId, s.syncId, offset, offset + count - 1],
  );
  return rows[0];
}
