import type { syncRequests } from '@switchyard/contracts';
import type { Handler } from '@switchyard/kit';
import { listChanges } from '../repo/catalogs.ts';
import type { Deps } from './deps.ts';

/** sync-worker.schema.changes: drift between syncs, newest first. */
export const changes =
  ({ pool }: Deps): Handler<typeof syncRequests.changes> =>
  ({ tenant_id, integration_id, limit, cursor }) =>
    listChanges(pool, tenant_id, integration_id, { limit, cursor });
