import type { syncRequests } from '@switchyard/contracts';
import type { Handler } from '@switchyard/kit';
import { startSync } from '../syncs.ts';
import type { Deps } from './deps.ts';

/** sync-worker.syncs.start: a new sync and its job (a second active sync of the integration is a 409 naming the first). */
export const start =
  ({ pool }: Deps): Handler<typeof syncRequests.start> =>
  (req) =>
    startSync(pool, req);
