import type { EventHandler } from '@switchyard/kit';
import { withTransaction, type Pool } from '@switchyard/kit';
import { seedTenantRules } from '../repo/alert-rules.ts';
import { markUnchecked } from '../repo/health.ts';
import { forgetIntegration, upsertIntegration } from '../repo/registry.ts';

interface Deps {
  pool: Pool;
  defaultIntervalMs: number;
}

type Lifecycle = 'events.integration.created' | 'events.integration.updated' | 'events.integration.connected' | 'events.integration.disconnected';

/**
 * events.integration.created|updated|connected|disconnected: which integrations
 * to check and how often. A tenant's first integration seeds its default alert
 * rules; a disconnected integration is not checked (its health is unknown).
 */
export const onIntegration =
  ({ pool, defaultIntervalMs }: Deps): EventHandler<Lifecycle> =>
  async (event) => {
    const { integration } = event.data;
    // The envelope's tenant is the one the owner announced to: a record naming another is not trusted.
    if (integration.tenant_id !== event.tenantid) return;
    await withTransaction(pool, async (tx) => {
      const applied = await upsertIntegration(tx, integration, new Date(event.time), defaultIntervalMs);
      if (applied?.changed && !applied.connected) await markUnchecked(tx, integration.id, integration.tenant_id, 'disconnected: not checked');
      await seedTenantRules(tx, integration.tenant_id);
    });
  };

/** events.integration.deleted: forgets it and everything recorded about it (its alerts resolve at the next evaluation). */
export const onDeleted =
  ({ pool }: { pool: Pool }): EventHandler<'events.integration.deleted'> =>
  async (event) => {
    if (event.data.tenant_id !== event.tenantid) return;
    await withTransaction(pool, (tx) => forgetIntegration(tx, event.data.integration_id));
  };
