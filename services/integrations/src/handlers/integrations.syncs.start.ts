import { syncRequests, syncTargetOf, type integrationRequests } from '@switchyard/contracts';
import { AppError, type Handler } from '@switchyard/kit';
import { getIntegration } from '../repo/integrations.ts';
import type { Deps } from './deps.ts';

/** integrations.syncs.start: a manual sync of a connected integration (the sync-worker refuses a second active one). */
export const startSync =
  ({ pool, rpc }: Pick<Deps, 'pool' | 'rpc'>): Handler<typeof integrationRequests.startSync> =>
  async ({ tenant_id, id }) => {
    const integration = await getIntegration(pool, tenant_id, id);
    if (integration.status !== 'CONNECTED')
      throw new AppError('CONFLICT', `integration ${id} is disconnected; connect it before syncing`);
    return rpc.request(syncRequests.start, { tenant_id, integration_id: integration.id, integration: syncTargetOf(integration), trigger: 'manual' });
  };
