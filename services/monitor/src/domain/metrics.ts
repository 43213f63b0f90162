import { WINDOW_SECONDS, type MetricsWindow, type WindowMetrics } from '@switchyard/contracts';
import type { RollupTotals, Span } from '../repo/rollups.ts';
import { summarize } from './histogram.ts';

const ratio = (n: number, d: number) => (d ? Math.round((n / d) * 10_000) / 10_000 : null);
const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;

/** The API's figures for one window, from its rollup totals. */
export function windowMetrics(window: MetricsWindow, span: Span, t: RollupTotals): WindowMetrics {
  const finished = t.completed + t.failed;
  const hours = WINDOW_SECONDS[window] / 3_600;
  return {
    window,
    from: span.from.toISOString(),
    to: span.to.toISOString(),
    syncs: { started: t.started, completed: t.completed, failed: t.failed, cancelled: t.cancelled },
    success_rate: ratio(t.completed, finished),
    error_rate: ratio(t.failed, finished),
    duration_ms: summarize(t.duration_hist, t.duration_sum_ms, t.completed, t.duration_max_ms),
    throughput: {
      syncs_per_hour: round(t.completed / hours),
      relations_per_sync: t.completed ? round(t.relations_sum / t.completed, 1) : null,
      relations_per_second: t.duration_sum_ms > 0 ? round(t.relations_sum / (t.duration_sum_ms / 1_000), 1) : null,
    },
    errors: Object.fromEntries(Object.entries(t.errors).map(([k, v]) => [k, Number(v)])),
    connection_tests: {
      total: t.tests_total,
      failed: t.tests_failed,
      latency_ms: summarize(t.test_latency_hist, t.test_latency_sum_ms, countOf(t.test_latency_hist), t.test_latency_max_ms),
    },
  };
}

const countOf = (h: Record<string, number>) => Object.values(h).reduce((s, v) => s + Number(v), 0);
