import type { integrationRequests } from '@switchyard/contracts';
import type { Handler } from '@switchyard/kit';
import type { Deps } from './deps.ts';
import { setStatus } from './set-status.ts';

/** integrations.connect: syncs may run again. */
export const connect =
  ({ pool }: Pick<Deps, 'pool'>): Handler<typeof integrationRequests.connect> =>
  (req) =>
    setStatus(pool, 'CONNECTED', req);
