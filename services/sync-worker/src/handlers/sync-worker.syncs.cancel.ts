import type { syncRequests } from '@switchyard/contracts';
import { AppError, type Handler } from '@switchyard/kit';
import { getSync } from '../repo/syncs.ts';
import { endSync } from '../syncs.ts';
import type { Deps } from './deps.ts';

/** sync-worker.syncs.cancel: cancels an active sync; one that already ended is a 409 saying how it ended. */
export const cancel =
  ({ pool }: Deps): Handler<typeof syncRequests.cancel> =>
  async ({ tenant_id, sync_id }) => {
    await getSync(pool, tenant_id, sync_id);
    const ended = await endSync(pool, sync_id, 'CANCELLED', { error: { code: 'CANCELLED', message: 'cancelled on request' } });
    if (ended) return ended;
    throw new AppError('CONFLICT', `sync ${sync_id} already ended (${(await getSync(pool, tenant_id, sync_id)).status})`);
  };
