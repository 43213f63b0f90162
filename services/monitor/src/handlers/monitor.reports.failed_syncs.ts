import type { monitorApiRequests } from '@switchyard/contracts';
import type { Handler } from '@switchyard/kit';
import { failedByTenant, spanOf } from '../repo/rollups.ts';
import type { Deps } from './deps.ts';

/** monitor.reports.failed_syncs (platform operator): failed syncs per tenant, most first. */
export const failedSyncs =
  ({ pool }: Pick<Deps, 'pool'>): Handler<typeof monitorApiRequests.failedSyncs> =>
  async ({ window }) => ({
    window,
    tenants: (await failedByTenant(pool, spanOf(window))).map((t) => ({
      ...t,
      error_rate: t.finished ? Math.round((t.failed / t.finished) * 10_000) / 10_000 : null,
    })),
  });
