import { credentialRequests, type integrationRequests } from '@switchyard/contracts';
import { withTransaction, writeEvent, type Handler } from '@switchyard/kit';
import { deleteIntegration, getIntegration } from '../repo/integrations.ts';
import { SOURCE, type Deps } from './deps.ts';

/**
 * integrations.delete: removes the credential first, so that if the credentials
 * service is away nothing is deleted and the caller may retry. The sync-worker
 * cancels an active sync when it sees the deleted event.
 */
export const remove =
  ({ pool, rpc }: Pick<Deps, 'pool' | 'rpc'>): Handler<typeof integrationRequests.delete> =>
  async ({ tenant_id, id }) => {
    await getIntegration(pool, tenant_id, id);
    await rpc.request(credentialRequests.delete, { tenant_id, integration_id: id });
    await withTransaction(pool, async (tx) => {
      await deleteIntegration(tx, tenant_id, id);
      await writeEvent(tx, SOURCE, 'events.integration.deleted', { integration_id: id, tenant_id }, { tenantId: tenant_id, about: id });
    });
    return { deleted: true as const };
  };
