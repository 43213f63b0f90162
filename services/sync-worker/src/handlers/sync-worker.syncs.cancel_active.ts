import type { syncRequests } from '@switchyard/contracts';
import type { Handler } from '@switchyard/kit';
import { findActive } from '../repo/syncs.ts';
import { endSync } from '../syncs.ts';
import type { Deps } from './deps.ts';

/** sync-worker.syncs.cancel_active: cancels the integration's active sync, if it has one. */
export const cancelActive =
  ({ pool }: Deps): Handler<typeof syncRequests.cancelActive> =>
  async ({ tenant_id, integration_id, reason }) => {
    const active = await findActive(pool, integration_id);
    if (!active || active.tenant_id !== tenant_id) return { cancelled: null };
    const ended = await endSync(pool, active.id, 'CANCELLED', { error: { code: 'CANCELLED', message: reason } });
    return { cancelled: ended ? active.id : null };
  };
