import type { CatalogRelation, syncRequests } from '@switchyard/contracts';
import { AppError, jsonBytes, replyBudget, type Handler } from '@switchyard/kit';
import { latestSnapshotId, relationPage, relationshipsOf, snapshotHead } from '../repo/catalogs.ts';
import { decodeRelationCursor, encodeRelationCursor } from '../repo/cursors.ts';
import type { Deps } from './deps.ts';
import { tooLarge } from './too-large.ts';

// Room for the page's own fields around the head and relations: the next cursor (at most 1 KiB) and keys.
const PAGE_ROOM = 1_200;

/**
 * sync-worker.schema.get: a page of the latest discovered catalog, narrowed by
 * schema and table. Reads only the page's relations, and holds fewer than
 * `limit` when more would not fit in one reply. A cursor keeps to the
 * snapshot of the first page, so a sync finishing meanwhile neither repeats
 * nor skips a relation.
 */
export const schema =
  ({ pool }: Deps): Handler<typeof syncRequests.schema> =>
  async ({ tenant_id, integration_id, schema: schemaName, table, limit, cursor }, ctx) => {
    const after = cursor ? decodeRelationCursor(cursor) : undefined;
    const syncId = after?.syncId ?? (await latestSnapshotId(pool, tenant_id, integration_id));
    const head = syncId && (await snapshotHead(pool, { syncId, tenantId: tenant_id, integrationId: integration_id }, schemaName));
    if (!syncId || !head)
      throw new AppError(
        'NOT_FOUND',
        after ? 'the snapshot this cursor pages through is gone: start again without a cursor' : `integration ${integration_id} has no completed sync yet`,
      );
    const base = { ...head, sync_id: syncId, integration_id };
    const room = replyBudget(ctx) - jsonBytes(base) - PAGE_ROOM;
    if (room <= 0)
      throw tooLarge("the catalog's list of schemas and enums", jsonBytes(base), replyBudget(ctx), 'narrow it to one schema with ?schema=');

    const rows = await relationPage(pool, syncId, { schema: schemaName, table }, after, limit + 1);
    const page = rows.slice(0, fit(rows.slice(0, limit), room));
    const cursorAfter = (r: CatalogRelation) => encodeRelationCursor({ syncId, schema: r.schema, name: r.name });
    if (!page.length && rows.length) {
      const [big] = rows as [CatalogRelation];
      throw tooLarge(
        `relation ${JSON.stringify(big.schema)}.${JSON.stringify(big.name)}`,
        jsonBytes(big),
        room,
        `it cannot be served until the NATS server's max_payload is raised; to page past it, pass cursor=${cursorAfter(big)}`,
      );
    }
    const last = page.at(-1);
    return { ...base, relations: page, relationships: relationshipsOf(page), next_cursor: rows.length > page.length && last ? cursorAfter(last) : null };
  };

/** How many leading relations fit in `room` bytes with their relationships (each array's commas counted). */
function fit(relations: CatalogRelation[], room: number): number {
  let used = 0;
  for (let i = 0; i < relations.length; i++) {
    const r = relations[i]!;
    const fks = relationshipsOf([r]);
    used += jsonBytes(r) + 1 + (fks.length ? jsonBytes(fks) - 1 : 0);
    if (used > room) return i;
  }
  return relations.length;
}
