import { requestedSyncId, syncRequests, syncTargetOf, type integrationRequests, type Sync } from '@switchyard/contracts';
import { AppError, idempotent, type Handler } from '@switchyard/kit';
import { getIntegration } from '../repo/integrations.ts';
import type { Deps } from './deps.ts';

/**
 * integrations.syncs.start: a manual sync of a connected integration (the
 * sync-worker refuses a second active one). With an Idempotency-Key the sync's
 * id comes from the key, so a retry that takes over a start whose answer was
 * lost gets that same sync rather than a conflict.
 */
export const startSync =
  ({ pool, rpc }: Pick<Deps, 'pool' | 'rpc'>): Handler<typeof integrationRequests.startSync> =>
  async ({ tenant_id, id, idempotency }, ctx) => {
    const start = async (): Promise<Sync> => {
      const integration = await getIntegration(pool, tenant_id, id);
      if (integration.status !== 'CONNECTED')
        throw new AppError('CONFLICT', `integration ${id} is disconnected; connect it before syncing`);
      return rpc.request(syncRequests.start, {
        tenant_id,
        integration_id: integration.id,
        integration: syncTargetOf(integration),
        trigger: 'manual',
        ...(idempotency ? { sync_id: requestedSyncId(tenant_id, idempotency.key) } : {}),
      });
    };
    if (!idempotency) return start();
    const { result, replayed } = await idempotent(pool, { tenantId: tenant_id, scope: ctx.subject, ref: idempotency, deadline: ctx.deadline }, start);
    if (replayed) ctx.meta = { replayed };
    return result;
  };
