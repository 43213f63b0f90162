import type { integrationRequests } from '@switchyard/contracts';
import type { Handler } from '@switchyard/kit';
import type { Deps } from './deps.ts';
import { setStatus } from './set-status.ts';

/** integrations.disconnect: no sync runs while disconnected; the sync-worker cancels an active one on the event. */
export const disconnect =
  ({ pool }: Pick<Deps, 'pool'>): Handler<typeof integrationRequests.disconnect> =>
  (req) =>
    setStatus(pool, 'DISCONNECTED', req);
