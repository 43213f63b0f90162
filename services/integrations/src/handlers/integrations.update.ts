import type { integrationRequests } from '@switchyard/contracts';
import { withTransaction, writeEvent, type Handler } from '@switchyard/kit';
import { updateIntegration } from '../repo/integrations.ts';
import { SOURCE, type Deps } from './deps.ts';

/** integrations.update: renames or reconfigures, and announces it. */
export const update =
  ({ pool }: Pick<Deps, 'pool'>): Handler<typeof integrationRequests.update> =>
  ({ tenant_id, id, name, config }) =>
    withTransaction(pool, async (tx) => {
      const updated = await updateIntegration(tx, tenant_id, id, { name, config });
      await writeEvent(tx, SOURCE, 'events.integration.updated', { integration: updated }, { tenantId: tenant_id, about: id });
      return updated;
    });
