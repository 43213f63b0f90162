import type { Integration, IntegrationStatus } from '@switchyard/contracts';
import { withTransaction, writeEvent, type Pool } from '@switchyard/kit';
import { getIntegration, updateIntegration } from '../repo/integrations.ts';
import { SOURCE } from './deps.ts';

const EVENT = { CONNECTED: 'events.integration.connected', DISCONNECTED: 'events.integration.disconnected' } as const;

/** Connects or disconnects; announces only a real change (a repeat is a no-op answered with the integration). */
export const setStatus = (pool: Pool, status: IntegrationStatus, { tenant_id, id }: { tenant_id: string; id: string }): Promise<Integration> =>
  withTransaction(pool, async (tx) => {
    const current = await getIntegration(tx, tenant_id, id, true);
    if (current.status === status) return current;
    const updated = await updateIntegration(tx, tenant_id, id, { status });
    await writeEvent(tx, SOURCE, EVENT[status], { integration: updated }, { tenantId: tenant_id, about: id });
    return updated;
  });
