import type { monitorApiRequests } from '@switchyard/contracts';
import type { Handler } from '@switchyard/kit';
import { analyze } from '../domain/analysis.ts';
import { windowMetrics } from '../domain/metrics.ts';
import { stateOf } from '../repo/health.ts';
import { getRegistered } from '../repo/registry.ts';
import { baselineOf, spanOf, totals } from '../repo/rollups.ts';
import type { Deps } from './deps.ts';

/** monitor.performance.get: the window against the three before it; score, trends, degradations, insights, recommendations. */
export const performance =
  ({ pool }: Pick<Deps, 'pool'>): Handler<typeof monitorApiRequests.performance> =>
  async ({ tenant_id, integration_id, window }) => {
    const now = new Date();
    const mine = await getRegistered(pool, tenant_id, integration_id);
    const ids = mine ? [integration_id] : [];
    const span = spanOf(window, now);
    const base = baselineOf(window, now);
    const [current, baseline, health] = await Promise.all([totals(pool, ids, span), totals(pool, ids, base), mine ? stateOf(pool, integration_id) : 'unknown' as const]);
    return {
      integration_id,
      ...analyze({
        window,
        current: windowMetrics(window, span, current),
        baseline: windowMetrics(window, base, baseline),
        health,
        schemasConfigured: mine?.schemas_configured ?? null,
      }),
    };
  };
