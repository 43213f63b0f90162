import type { Pool } from '@switchyard/kit';
import { findActive } from '../repo/syncs.ts';
import { endSync } from '../syncs.ts';

/**
 * Cancels the integration's active sync because of an event that happened at
 * `at`. An old event (read late, after a reconnect and a new sync) must not
 * cancel a newer sync, and another tenant's event must not touch this one.
 */
export async function cancelActiveFor(
  pool: Pool,
  e: { tenantId: string; integrationId: string; at: string; what: 'deleted' | 'disconnected' },
): Promise<void> {
  const active = await findActive(pool, e.integrationId);
  if (!active || active.tenant_id !== e.tenantId || new Date(active.created_at) > new Date(e.at)) return;
  await endSync(pool, active.id, 'CANCELLED', {
    error: { code: `INTEGRATION_${e.what.toUpperCase()}`, message: `the integration was ${e.what}` },
  });
}
