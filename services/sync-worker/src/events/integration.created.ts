import { syncTargetOf } from '@switchyard/contracts';
import { isAppError, type EventHandler, type Pool } from '@switchyard/kit';
import { startSync } from '../syncs.ts';

/**
 * events.integration.created: starts the integration's first sync, the same
 * one (deterministic id) the create request started if it got that far.
 */
export const onCreated =
  ({ pool }: { pool: Pool }): EventHandler<'events.integration.created'> =>
  async ({ tenantid, data: { integration } }) => {
    // An event whose envelope and record disagree on the tenant is not acted on (NATS lets only integrations publish it).
    if (tenantid !== integration.tenant_id) return;
    try {
      await startSync(pool, {
        tenant_id: integration.tenant_id,
        integration_id: integration.id,
        integration: syncTargetOf(integration),
        trigger: 'created',
      });
    } catch (err) {
      // Another sync is already running for it: nothing to start.
      if (!(isAppError(err) && err.code === 'CONFLICT')) throw err;
    }
  };
