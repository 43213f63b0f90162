import type { AlertMetric, Comparator } from '@switchyard/contracts';
import type { RollupTotals } from '../repo/rollups.ts';
import { quantile } from './histogram.ts';

export const holds = (value: number | null, comparator: Comparator, threshold: number): boolean => {
  if (value === null || !Number.isFinite(value)) return false;
  switch (comparator) {
    case 'gt':
      return value > threshold;
    case 'gte':
      return value >= threshold;
    case 'lt':
      return value < threshold;
    case 'lte':
      return value <= threshold;
  }
};

/** Where one series of a rule stands: nothing open, pending since, or firing (clear since, when its condition stopped). */
export type Open = { state: 'pending'; activeSince: Date } | { state: 'firing'; clearSince: Date | null } | undefined;

export type Action =
  | { do: 'nothing' }
  | { do: 'open'; fireNow: boolean }
  | { do: 'fire' }
  | { do: 'resolve' }
  | { do: 'drop' }
  | { do: 'keep'; clearSince: Date | null };

/**
 * One evaluation of one series: an alert fires once its condition has held
 * for `forSeconds`, and resolves once it has been false for as long (at the
 * first false evaluation when `forSeconds` is 0). The same duration both ways
 * is the hysteresis: a value wobbling around the threshold neither fires nor
 * resolves on every evaluation. A pending alert whose condition stops is
 * dropped without a word: it never fired.
 */
export function step(open: Open, condition: boolean, forSeconds: number, now: Date): Action {
  const elapsed = (since: Date) => (now.getTime() - since.getTime()) / 1_000 >= forSeconds;
  if (condition) {
    if (!open) return { do: 'open', fireNow: forSeconds === 0 };
    if (open.state === 'pending') return elapsed(open.activeSince) ? { do: 'fire' } : { do: 'keep', clearSince: null };
    return { do: 'keep', clearSince: null };
  }
  if (!open) return { do: 'nothing' };
  if (open.state === 'pending') return { do: 'drop' };
  if (forSeconds === 0) return { do: 'resolve' };
  if (!open.clearSince) return { do: 'keep', clearSince: now };
  return elapsed(open.clearSince) ? { do: 'resolve' } : { do: 'keep', clearSince: open.clearSince };
}

/** An integration metric from its rollup totals over the rule's window (null: nothing to judge). */
export function integrationValue(metric: AlertMetric, t: RollupTotals | undefined, unhealthy: boolean): number | null {
  if (metric === 'unhealthy') return unhealthy ? 1 : 0;
  if (!t) return metric === 'failed_syncs' || metric === 'connection_test_failures' ? 0 : null;
  const finished = t.completed + t.failed;
  switch (metric) {
    case 'sync_duration_avg_ms':
      return t.completed ? t.duration_sum_ms / t.completed : null;
    case 'sync_duration_p95_ms':
      return quantile(t.duration_hist, 0.95);
    case 'error_rate':
      return finished ? t.failed / finished : null;
    case 'success_rate':
      return finished ? t.completed / finished : null;
    case 'failed_syncs':
      return t.failed;
    case 'connection_test_latency_p95_ms':
      return quantile(t.test_latency_hist, 0.95);
    case 'connection_test_failures':
      return t.tests_failed;
    default:
      return null;
  }
}
