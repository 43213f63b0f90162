import type { EventHandler, Pool } from '@switchyard/kit';
import { cancelActiveFor } from './cancel-active.ts';

/** events.integration.deleted: an active sync of the integration is cancelled. */
export const onDeleted =
  ({ pool }: { pool: Pool }): EventHandler<'events.integration.deleted'> =>
  (event) =>
    cancelActiveFor(pool, { tenantId: event.tenantid, integrationId: event.data.integration_id, at: event.time, what: 'deleted' });
