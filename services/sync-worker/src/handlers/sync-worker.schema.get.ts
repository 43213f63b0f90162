import type { syncRequests } from '@switchyard/contracts';
import { AppError, type Handler } from '@switchyard/kit';
import { latestSnapshotId, loadSnapshot } from '../repo/catalogs.ts';
import type { Deps } from './deps.ts';

/** sync-worker.schema.get: the latest discovered catalog, narrowed by schema and table. */
export const schema =
  ({ pool }: Deps): Handler<typeof syncRequests.schema> =>
  async ({ tenant_id, integration_id, schema: schemaName, table }) => {
    const syncId = await latestSnapshotId(pool, tenant_id, integration_id);
    const snapshot = syncId && (await loadSnapshot(pool, syncId, { schema: schemaName, table }));
    if (!syncId || !snapshot) throw new AppError('NOT_FOUND', `integration ${integration_id} has no completed sync yet`);
    return { ...snapshot, sync_id: syncId, integration_id };
  };
