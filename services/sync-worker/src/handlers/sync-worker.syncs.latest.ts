import type { syncRequests } from '@switchyard/contracts';
import type { Handler } from '@switchyard/kit';
import { latestSyncs } from '../repo/syncs.ts';
import type { Deps } from './deps.ts';

/** sync-worker.syncs.latest: the latest sync of each of the given integrations. */
export const latest =
  ({ pool }: Deps): Handler<typeof syncRequests.latest> =>
  async ({ tenant_id, integration_ids }) => ({ data: await latestSyncs(pool, tenant_id, integration_ids) });
