import type { monitorApiRequests } from '@switchyard/contracts';
import type { Handler } from '@switchyard/kit';
import { readHealth } from '../repo/health.ts';
import type { Deps } from './deps.ts';

/** monitor.health.get: the state, why, and the last checks and changes (another tenant's integration reads as never checked). */
export const health =
  ({ pool, defaultIntervalS }: Pick<Deps, 'pool' | 'defaultIntervalS'>): Handler<typeof monitorApiRequests.health> =>
  async ({ tenant_id, integration_id, limit }) =>
    readHealth(pool, tenant_id, integration_id, limit, { intervalS: defaultIntervalS });
