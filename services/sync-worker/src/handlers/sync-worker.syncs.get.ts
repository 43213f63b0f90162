import type { syncRequests } from '@switchyard/contracts';
import type { Handler } from '@switchyard/kit';
import { getSync } from '../repo/syncs.ts';
import type { Deps } from './deps.ts';

/** sync-worker.syncs.get: one sync of the tenant. */
export const get =
  ({ pool }: Deps): Handler<typeof syncRequests.get> =>
  ({ tenant_id, sync_id }) =>
    getSync(pool, tenant_id, sync_id);
