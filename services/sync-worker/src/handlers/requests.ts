import type { syncRequests } from '@switchyard/contracts';
import { AppError, type Handlers, type Runtime } from '@switchyard/kit';
import { latestSnapshotId, listChanges, loadSnapshot } from '../repo/catalogs.ts';
import { findActive, getSync, latestSyncs, listSyncs } from '../repo/syncs.ts';
import { endSync, startSync } from '../syncs.ts';

export const requestHandlers = (rt: Runtime): Handlers<typeof syncRequests> => ({
  start: (req) => startSync(rt.pool, req),
  get: ({ tenant_id, sync_id }) => getSync(rt.pool, tenant_id, sync_id),
  list: ({ tenant_id, integration_id, limit, cursor }) => listSyncs(rt.pool, tenant_id, integration_id, { limit, cursor }),
  latest: async ({ tenant_id, integration_ids }) => ({ data: await latestSyncs(rt.pool, tenant_id, integration_ids) }),

  cancel: async ({ tenant_id, sync_id }) => {
    const current = await getSync(rt.pool, tenant_id, sync_id);
    const ended = await endSync(rt.pool, sync_id, 'CANCELLED', { error: { code: 'CANCELLED', message: 'cancelled on request' } });
    if (ended) return ended;
    throw new AppError('CONFLICT', `sync ${sync_id} already ended (${(await getSync(rt.pool, tenant_id, sync_id)).status ?? current.status})`);
  },

  cancelActive: async ({ tenant_id, integration_id, reason }) => {
    const active = await findActive(rt.pool, integration_id);
    if (!active || active.tenant_id !== tenant_id) return { cancelled: null };
    const ended = await endSync(rt.pool, active.id, 'CANCELLED', { error: { code: 'CANCELLED', message: reason } });
    return { cancelled: ended ? active.id : null };
  },

  schema: async ({ tenant_id, integration_id, schema, table }) => {
    const syncId = await latestSnapshotId(rt.pool, tenant_id, integration_id);
    const snapshot = syncId && (await loadSnapshot(rt.pool, syncId, { schema, table }));
    if (!syncId || !snapshot) throw new AppError('NOT_FOUND', `integration ${integration_id} has no completed sync yet`);
    return { ...snapshot, sync_id: syncId, integration_id };
  },

  changes: ({ tenant_id, integration_id, limit, cursor }) => listChanges(rt.pool, tenant_id, integration_id, { limit, cursor }),
});
