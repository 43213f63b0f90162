import { z } from 'zod';
import { IntegrationDeleted, IntegrationEvent } from '@switchyard/contracts';
import { isAppError, type JobContext, type Runtime } from '@switchyard/kit';
import { findActive } from '../repo/syncs.ts';
import { endSync, startSync } from '../syncs.ts';

/** Only the fields this consumer reads; each event's data is parsed by its own schema below. */
export const IntegrationCloudEvent = z.object({
  id: z.string(),
  type: z.string(),
  time: z.iso.datetime(),
  tenantid: z.string(),
  data: z.unknown(),
});
export type IntegrationCloudEvent = z.infer<typeof IntegrationCloudEvent>;

/**
 * Integration lifecycle, as announced by the integrations service: the first
 * sync starts on `created` (the same sync the create request started, if it
 * did), and an active sync is cancelled on `deleted` or `disconnected`.
 */
export const onIntegrationEvent = (rt: Runtime) => async (event: IntegrationCloudEvent, ctx: JobContext) => {
  switch (ctx.subject) {
    case 'events.integration.created': {
      const { integration } = IntegrationEvent.parse(event.data);
      try {
        await startSync(rt.pool, { tenant_id: integration.tenant_id, integration_id: integration.id, trigger: 'created' });
      } catch (err) {
        // Another sync is already running for it: nothing to start.
        if (!(isAppError(err) && err.code === 'CONFLICT')) throw err;
      }
      return;
    }
    case 'events.integration.deleted':
    case 'events.integration.disconnected': {
      const integrationId =
        ctx.subject === 'events.integration.deleted'
          ? IntegrationDeleted.parse(event.data).integration_id
          : IntegrationEvent.parse(event.data).integration.id;
      const active = await findActive(rt.pool, integrationId);
      // An old event (read late, after a reconnect and a new sync) must not cancel a newer sync.
      if (active && new Date(active.created_at) <= new Date(event.time)) {
        const what = ctx.subject === 'events.integration.deleted' ? 'deleted' : 'disconnected';
        await endSync(rt.pool, active.id, 'CANCELLED', {
          error: { code: `INTEGRATION_${what.toUpperCase()}`, message: `the integration was ${what}` },
        });
      }
      return;
    }
    default:
      return; // updated, connected, credentials_rotated: nothing to do here
  }
};
