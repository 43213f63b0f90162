import type { integrationRequests } from '@switchyard/contracts';
import type { Handler } from '@switchyard/kit';
import { listIntegrations } from '../repo/integrations.ts';
import type { Deps } from './deps.ts';

/** integrations.list: the tenant's integrations, newest first, filtered by type and status. */
export const list =
  ({ pool }: Pick<Deps, 'pool'>): Handler<typeof integrationRequests.list> =>
  ({ tenant_id, query }) =>
    listIntegrations(pool, tenant_id, query);
