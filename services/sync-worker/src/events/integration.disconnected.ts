import type { EventHandler, Pool } from '@switchyard/kit';
import { cancelActiveFor } from './cancel-active.ts';

/** events.integration.disconnected: no sync runs while disconnected; an active one is cancelled. */
export const onDisconnected =
  ({ pool }: { pool: Pool }): EventHandler<'events.integration.disconnected'> =>
  (event) =>
    cancelActiveFor(pool, { tenantId: event.tenantid, integrationId: event.data.integration.id, at: event.time, what: 'disconnected' });
