import { changeSetPath, type ChangeSetSummary, type syncRequests } from '@switchyard/contracts';
import { encodeCursor, fitting, jsonBytes, replyBudget, type Handler } from '@switchyard/kit';
import { listChanges } from '../repo/changes.ts';
import type { Deps } from './deps.ts';

/**
 * sync-worker.schema.changes: drift between syncs, newest first. Each set
 * carries its first changes (as many as fit), its total and where the whole
 * set is; a page ends early rather than outgrow one reply.
 */
export const changes =
  ({ pool }: Deps): Handler<typeof syncRequests.changes> =>
  async ({ tenant_id, integration_id, limit, cursor }, ctx) => {
    const rows = await listChanges(pool, tenant_id, integration_id, { limit: limit + 1, cursor });
    // Room for the page's own keys and next cursor.
    let room = replyBudget(ctx) - 200;
    const data: ChangeSetSummary[] = [];
    for (const r of rows.slice(0, limit)) {
      const summary = { ...r, detected_at: r.detected_at.toISOString(), truncated: false, changes_url: changeSetPath(integration_id, r.sync_id) };
      const head = jsonBytes({ ...summary, changes: [] }) + 1;
      const n = fitting(r.changes, room - head);
      // A set that does not fit whole starts the next page, unless it is the first of this one.
      if (n < r.changes.length && data.length) break;
      const shown = r.changes.slice(0, n);
      data.push({ ...summary, changes: shown, truncated: n < r.total });
      room -= head + jsonBytes(shown);
    }
    const last = rows[data.length - 1];
    return { data, next_cursor: rows.length > data.length && last ? encodeCursor(last.detected_at, last.sync_id) : null };
  };
