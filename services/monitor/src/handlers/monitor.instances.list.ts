import type { monitorRequests } from '@switchyard/contracts';
import type { Handler, Pool } from '@switchyard/kit';
import { listInstances } from '../repo/instances.ts';

/** monitor.instances.list: the live service instances (and the stale ones, when asked). */
export const listInstancesHandler =
  ({ pool, staleAfterBeats }: { pool: Pool; staleAfterBeats: number }): Handler<typeof monitorRequests.listInstances> =>
  async (req) => ({ instances: await listInstances(pool, { staleAfterBeats, includeStale: req.include_stale }) });
