import { MetricsWindow, type monitorApiRequests } from '@switchyard/contracts';
import type { Handler } from '@switchyard/kit';
import { windowMetrics } from '../domain/metrics.ts';
import { getRegistered } from '../repo/registry.ts';
import { spanOf, totals } from '../repo/rollups.ts';
import type { Deps } from './deps.ts';

/** monitor.metrics.get: one window, or all four, from the rollups (a few hundred rows at most, however many syncs). */
export const metrics =
  ({ pool }: Pick<Deps, 'pool'>): Handler<typeof monitorApiRequests.metrics> =>
  async ({ tenant_id, integration_id, window }) => {
    const now = new Date();
    // Rollups are keyed by integration: one of another tenant counts nothing here.
    const mine = await getRegistered(pool, tenant_id, integration_id);
    const ids = mine ? [integration_id] : [];
    const windows = await Promise.all(
      (window ? [window] : MetricsWindow.options).map(async (w) => {
        const span = spanOf(w, now);
        return windowMetrics(w, span, await totals(pool, ids, span));
      }),
    );
    return { integration_id, generated_at: now.toISOString(), windows };
  };
