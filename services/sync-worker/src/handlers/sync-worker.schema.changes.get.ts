import type { syncRequests } from '@switchyard/contracts';
import { AppError, fitting, jsonBytes, replyBudget, type Handler } from '@switchyard/kit';
import { changeSetSlice } from '../repo/changes.ts';
import { decodeOffsetCursor, encodeOffsetCursor } from '../repo/cursors.ts';
import type { Deps } from './deps.ts';
import { tooLarge } from './too-large.ts';

/**
 * sync-worker.schema.changes.get: a page of one change set (what
 * events.schema.changed refers to), in the diff's order. PostgreSQL slices the
 * set; a page holds fewer than `limit` when more would not fit in one reply.
 */
export const changeSet =
  ({ pool }: Deps): Handler<typeof syncRequests.changeSet> =>
  async ({ tenant_id, integration_id, sync_id, limit, cursor }, ctx) => {
    const offset = cursor ? decodeOffsetCursor(cursor) : 0;
    const set = await changeSetSlice(pool, { tenantId: tenant_id, integrationId: integration_id, syncId: sync_id }, offset, limit);
    if (!set) throw new AppError('NOT_FOUND', `integration ${integration_id} has no change set ${sync_id}`);
    const head = { ...set, detected_at: set.detected_at.toISOString(), changes: [], next_cursor: encodeOffsetCursor(set.total) };
    const room = replyBudget(ctx) - jsonBytes(head);
    const n = fitting(set.changes, room);
    if (n === 0 && set.changes.length)
      throw tooLarge(
        `change ${offset} of the set`,
        jsonBytes(set.changes[0]),
        room,
        `it cannot be served until the NATS server's max_payload is raised; to page past it, pass cursor=${encodeOffsetCursor(offset + 1)}`,
      );
    const next = offset + n < set.total ? encodeOffsetCursor(offset + n) : null;
    return { ...head, changes: set.changes.slice(0, n), next_cursor: next };
  };
