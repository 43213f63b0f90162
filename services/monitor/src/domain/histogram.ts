import type { Percentiles } from '@switchyard/contracts';

/**
 * Log-bucketed histograms of milliseconds, stored sparse ({index: count}).
 * Bucket i holds values in (2^((i-1)/16), 2^(i/16)]: 16 buckets per doubling,
 * so a percentile read from them is within 4.4% of the exact one, whatever
 * the range (1 ms to hours), and merging windows is adding counts. This is
 * the bucket layout of Prometheus native histograms (schema 4).
 */
export const PER_DOUBLING = 16;
const MAX_INDEX = 40 * PER_DOUBLING;

export type SparseHistogram = Record<string, number>;

export function bucketOf(ms: number): number {
  if (!(ms > 1)) return 0;
  return Math.min(MAX_INDEX, Math.ceil(Math.log2(ms) * PER_DOUBLING));
}

const upper = (i: number) => 2 ** (i / PER_DOUBLING);
const lower = (i: number) => (i <= 0 ? 0 : 2 ** ((i - 1) / PER_DOUBLING));

export function merge(into: SparseHistogram, from: SparseHistogram): SparseHistogram {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + Number(v);
  return into;
}

/**
 * The value at quantile q (0..1): the bucket holding that rank, interpolated
 * geometrically inside it by the rank's position. Null for an empty histogram.
 */
export function quantile(h: SparseHistogram, q: number): number | null {
  const buckets = Object.entries(h)
    .map(([k, v]) => [Number(k), Number(v)] as const)
    .filter(([, v]) => v > 0)
    .sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((s, [, v]) => s + v, 0);
  if (!total) return null;
  // Nearest rank, as percentiles of a known list are usually stated.
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const [i, n] of buckets) {
    if (seen + n >= rank) {
      const lo = lower(i);
      const hi = upper(i);
      const within = (rank - seen) / n;
      return lo === 0 ? hi * within : lo * (hi / lo) ** within;
    }
    seen += n;
  }
  return upper(buckets.at(-1)![0]);
}

/** avg (exact, from the sum), p50, p95, p99 and the top bucket's bound, rounded to 0.1 ms. */
export function summarize(h: SparseHistogram, sum: number, count: number, max: number): Percentiles {
  const r = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
  if (!count) return { avg: null, p50: null, p95: null, p99: null, max: null };
  return { avg: r(sum / count), p50: r(quantile(h, 0.5)), p95: r(quantile(h, 0.95)), p99: r(quantile(h, 0.99)), max: r(max) };
}
