import type { monitorApiRequests, PerformanceReport } from '@switchyard/contracts';
import type { Handler } from '@switchyard/kit';
import { merge, quantile, summarize, type SparseHistogram } from '../domain/histogram.ts';
import { healthCounts } from '../repo/health.ts';
import { listRegistered } from '../repo/registry.ts';
import { spanOf, totalsByIntegration } from '../repo/rollups.ts';
import type { Deps } from './deps.ts';

const ratio = (n: number, d: number) => (d ? Math.round((n / d) * 10_000) / 10_000 : null);

/** monitor.reports.performance: the tenant's totals, its slowest and most failing integrations, its health states. */
export const report =
  ({ pool }: Pick<Deps, 'pool'>): Handler<typeof monitorApiRequests.report> =>
  async ({ tenant_id, window }) => {
    const span = spanOf(window, new Date());
    const [per, health, registered] = await Promise.all([totalsByIntegration(pool, { tenantId: tenant_id }, span), healthCounts(pool, tenant_id), listRegistered(pool, { tenantId: tenant_id })]);
    const names = new Map(registered.map((r) => [r.id, r.name]));
    const hist: SparseHistogram = {};
    let completed = 0, failed = 0, started = 0, sumMs = 0, maxMs = 0, tests = 0, testsFailed = 0;
    const ranked = [...per].map(([id, t]) => {
      merge(hist, t.duration_hist);
      completed += t.completed;
      failed += t.failed;
      started += t.started;
      sumMs += t.duration_sum_ms;
      maxMs = Math.max(maxMs, t.duration_max_ms);
      tests += t.tests_total;
      testsFailed += t.tests_failed;
      const p95 = quantile(t.duration_hist, 0.95);
      return {
        integration_id: id,
        name: names.get(id) ?? t.name ?? id,
        syncs: t.completed + t.failed,
        failed: t.failed,
        error_rate: ratio(t.failed, t.completed + t.failed),
        duration_p95_ms: p95 === null ? null : Math.round(p95 * 10) / 10,
      };
    });
    const out: PerformanceReport = {
      window,
      generated_at: new Date().toISOString(),
      totals: {
        integrations: registered.length,
        syncs: started,
        completed,
        failed,
        success_rate: ratio(completed, completed + failed),
        error_rate: ratio(failed, completed + failed),
        duration_ms: summarize(hist, sumMs, completed, maxMs),
        connection_tests: tests,
        connection_tests_failed: testsFailed,
      },
      health,
      slowest: ranked.filter((r) => r.duration_p95_ms !== null).sort((a, b) => b.duration_p95_ms! - a.duration_p95_ms!).slice(0, 5),
      most_failing: ranked.filter((r) => r.failed > 0).sort((a, b) => b.failed - a.failed || (b.error_rate ?? 0) - (a.error_rate ?? 0)).slice(0, 5),
    };
    return out;
  };
