import type { syncRequests } from '@switchyard/contracts';
import type { Handler } from '@switchyard/kit';
import { listSyncs } from '../repo/syncs.ts';
import type { Deps } from './deps.ts';

/** sync-worker.syncs.list: an integration's syncs, newest first. */
export const list =
  ({ pool }: Deps): Handler<typeof syncRequests.list> =>
  ({ tenant_id, integration_id, limit, cursor }) =>
    listSyncs(pool, tenant_id, integration_id, { limit, cursor });
