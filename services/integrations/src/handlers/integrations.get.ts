import type { integrationRequests } from '@switchyard/contracts';
import type { Handler } from '@switchyard/kit';
import { getIntegration } from '../repo/integrations.ts';
import type { Deps } from './deps.ts';

/** integrations.get: one integration of the tenant (another tenant's is not found). */
export const get =
  ({ pool }: Pick<Deps, 'pool'>): Handler<typeof integrationRequests.get> =>
  ({ tenant_id, id }) =>
    getIntegration(pool, tenant_id, id);
